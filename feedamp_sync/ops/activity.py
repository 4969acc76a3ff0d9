"""What each account's API traffic says about it: is it moving, does it succeed, is it refused.

Fed by the API client's request observer (every HTTP attempt, answered or not). Liveness
reads the time of the last attempt (a tick that keeps making requests is not hung, even if
FeedAMP is down); readiness reads the time of the last success and the authentication
problem, if any.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

PASSWORD_REFUSED: Final = "FeedAMP refused the username or password (HTTP 401 on get_token)"
CLIENT_ID_REFUSED: Final = "FeedAMP refused the client id, or this IP is not allowlisted (HTTP 403)"


@dataclass(frozen=True)
class AccountActivity:
    """One account's latest API signs; times are ``None`` until the first one."""

    last_attempt: float | None = None
    """``time.monotonic()`` at the end of the latest attempt, whatever its outcome."""
    last_success_at: datetime | None = None
    """Wall-clock time of the latest 2xx answer."""
    auth_problem: str | None = None


def auth_problem(previous: str | None, *, endpoint: str, status: int | None) -> str | None:
    """The account's authentication problem after one more answer (pure).

    A 401 from ``get_token`` means the password (or username) is wrong; a 403 anywhere means
    the client id (or the IP). A 401 on another call only means the token expired: the
    client renews it, so it changes nothing. A successful ``get_token`` clears a password
    problem only (the client id is not sent there); any other success clears both.
    """
    if status is None:
        return previous
    if status == 403:
        return CLIENT_ID_REFUSED
    if endpoint == "get_token":
        if status == 401:
            return PASSWORD_REFUSED
        if 200 <= status < 300 and previous == PASSWORD_REFUSED:
            return None
        return previous
    return None if 200 <= status < 300 else previous


class ApiActivity:
    """Thread-safe record of :class:`AccountActivity` per account."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._accounts: dict[str, AccountActivity] = {}

    def record(self, *, account: str, endpoint: str, status: int | None) -> None:
        now = self._monotonic()
        succeeded_at = self._clock() if status is not None and 200 <= status < 300 else None
        with self._lock:
            before = self._accounts.get(account, AccountActivity())
            self._accounts[account] = replace(
                before,
                last_attempt=now,
                last_success_at=succeeded_at or before.last_success_at,
                auth_problem=auth_problem(before.auth_problem, endpoint=endpoint, status=status),
            )

    def snapshot(self) -> Mapping[str, AccountActivity]:
        with self._lock:
            return dict(self._accounts)
