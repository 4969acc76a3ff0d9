"""What every command shares: exit codes, the lazily loaded settings, JSON output."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import click

from feedamp_sync.errors import (
    ApiAuthError,
    ConfigError,
    DatabaseNotMigrated,
    FeedampSyncError,
    InstanceConflict,
    InvalidPayload,
)
from feedamp_sync.settings import Settings, load_settings

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_DATA: Final = 65
EXIT_AUTH: Final = 77
EXIT_CONFIG: Final = 78


def exit_code_for(error: FeedampSyncError) -> int:
    if isinstance(error, ConfigError | DatabaseNotMigrated | InstanceConflict):
        return EXIT_CONFIG
    if isinstance(error, ApiAuthError):
        return EXIT_AUTH
    if isinstance(error, InvalidPayload):
        return EXIT_DATA
    return EXIT_FAILURE


class Context:
    """What the group's options give every command: the config path, settings on demand."""

    def __init__(self, config: Path | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings


def to_json(value: Any) -> str:
    def default(obj: object) -> object:
        if isinstance(obj, datetime):
            return obj.isoformat()
        raise TypeError(f"cannot serialise {type(obj).__name__}")

    text = json.dumps(value, default=default, indent=2, ensure_ascii=False)
    # A lone surrogate (a bad row, shown so it can be dealt with) is no UTF-8: escape it.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


pass_context = click.make_pass_decorator(Context)
