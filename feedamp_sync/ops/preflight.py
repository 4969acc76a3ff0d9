"""``feedamp-sync check``: the configuration, the database and every account, one result each.

Each account gets a fresh token (proving the username and password) and then one cheap
authenticated read, the first page of "get new orders" at the smallest page size (proving the
client id and the IP allowlist). That call was chosen over ``GET /orders/{id}`` of a made-up id
because it is documented, read-only and answers 200 for a good account, while what FeedAMP
answers for an unknown order id is not documented (a 404 could not be told from a wrong path).
Nothing is stored and nothing is confirmed.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url

from feedamp_sync.clients import client_config
from feedamp_sync.db import migrate
from feedamp_sync.db.engine import create_engine_for, sqlite_file
from feedamp_sync.db.instance import held_open
from feedamp_sync.errors import (
    ApiAuthError,
    ApiError,
    ApiForbidden,
    ConfigError,
    DatabaseError,
    DatabaseNotMigrated,
    FeedampSyncError,
)
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.transport import tls_context
from feedamp_sync.logs import register_secret
from feedamp_sync.outbox.numbers import nonce_warning
from feedamp_sync.settings import AccountSettings, ApiSettings, Settings, load_settings

CHECK_GET_ATTEMPTS: Final = 2
"""Tries of a read during ``check``: an operator waits for the answer, so one retry only."""
SMALLEST_PAGE: Final = 50


class Unreachable(FeedampSyncError):
    """The database or FeedAMP did not answer (exit 1)."""


@dataclass(frozen=True)
class Result:
    """One check's outcome; ``warning`` is a risk worth fixing that does not fail it."""

    name: str
    detail: str
    error: FeedampSyncError | None = None
    warning: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def run_checks(path: Path | None, environ: Mapping[str, str]) -> Iterator[Result]:
    """Every check in order; after a configuration error there is nothing more to check."""
    try:
        settings = load_settings(path, environ)
    except ConfigError as error:
        yield Result("config", str(error), error)
        return
    source = f"{path}" if path is not None else "the environment"
    yield Result("config", f"valid ({source}; {len(settings.accounts)} account(s))")
    unsafe_numbers = nonce_warning(settings.outbox)
    if unsafe_numbers is not None:
        yield Result("refund numbers", unsafe_numbers, warning=True)
    yield check_database(settings)
    api = settings.api.model_copy(update={"get_attempts": CHECK_GET_ATTEMPTS})
    tls = tls_context()
    for account in settings.accounts:
        yield check_account(account, api, environ, tls)


def check_database(settings: Settings) -> Result:
    """Reach the database and compare its schema with this release's, creating nothing: a
    SQLite file that does not exist yet (in a directory that does) is reported, not opened,
    since opening it would create it empty."""
    shown = make_url(settings.database.url).render_as_string(hide_password=True)
    name = f"database {shown}"
    file = sqlite_file(settings.database.url)
    if file is not None and not file.exists() and file.parent.is_dir():
        missing = DatabaseNotMigrated(f"not created yet: run '{migrate.UPGRADE_COMMAND}'")
        return Result(name, str(missing), missing)
    engine = create_engine_for(settings.database.url, pool_size=1)
    try:
        with held_open(engine):  # as every command opens it, so it fails alike
            migrate.require_head(engine)
    except DatabaseNotMigrated as error:
        return Result(name, f"reachable, but {error}", error)
    except DatabaseError as error:
        problem = Unreachable(f"unreachable: {error}")
        return Result(name, str(problem), problem)
    finally:
        engine.dispose()
    return Result(name, f"reachable, schema at revision {migrate.head_revision()} (current)")


def check_account(
    account: AccountSettings,
    api: ApiSettings,
    environ: Mapping[str, str],
    tls: ssl.SSLContext | None = None,
) -> Result:
    """A token for the username and password, then one read with the client id."""
    name = f"account {account.name}"
    password = account.secret_password(environ)
    register_secret(password.get_secret_value())
    with FeedampClient(client_config(account, api), password, tls=tls) as client:
        try:
            client.renew_token()
        except ApiAuthError as error:
            return Result(
                name,
                f"FeedAMP refused the username or password of {account.username} "
                f"(HTTP {error.status_code} on get_token)",
                error,
            )
        except ApiError as error:
            return _unreachable(name, account, error)
        try:
            first = next(iter(client.iter_new_orders(page_size=SMALLEST_PAGE)), None)
        except ApiForbidden as error:
            return Result(
                name,
                f"FeedAMP refused client id {account.client_id} (HTTP 403): not authorized "
                "for this user, or this IP is not allowlisted",
                error,
            )
        except ApiAuthError as error:
            return Result(name, f"FeedAMP refused a fresh token: {error}", error)
        except ApiError as error:
            return _unreachable(name, account, error)
    waiting = len(first.items) if first is not None else 0
    more = "+" if first is not None and first.next_cursor else ""
    return Result(
        name,
        f"token ok, client id {account.client_id} ok ({waiting}{more} new orders waiting)",
    )


def _unreachable(name: str, account: AccountSettings, error: ApiError) -> Result:
    problem = Unreachable(f"FeedAMP at {account.base_url} did not answer usefully: {error}")
    return Result(name, str(problem), problem)
