"""The returns poll's overlap setting: its default and its validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedamp_sync.errors import ConfigError
from feedamp_sync.settings import JobSettings, load_settings

CONFIG = """
[[accounts]]
name = "main"
username = "seller@example.com"
password = "x"
client_id = 7

[jobs]
returns_overlap_seconds = {value}
"""


def test_the_returns_overlap_defaults_to_fifteen_minutes() -> None:
    """Without configuration a poll looks 900 s before the previous poll's start."""
    assert JobSettings().returns_overlap_seconds == 900


@pytest.mark.parametrize("value", ["0", "-60", '"soon"'])
def test_an_overlap_that_is_not_a_positive_number_is_refused(value: str, tmp_path: Path) -> None:
    """Zero, negative or non-numeric overlaps stop the start with the key named."""
    path = tmp_path / "feedamp-sync.toml"
    path.write_text(CONFIG.format(value=value))
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=r"jobs\.returns_overlap_seconds"):
        load_settings(path, environ={})
