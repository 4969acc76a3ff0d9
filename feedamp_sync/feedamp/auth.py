"""The account's FeedAMP token, renewed once for all threads that need a new one.

FeedAMP does not document how long a token lives, so a token is renewed when a call gets a 401
(and, if configured, proactively after ``token_max_age_seconds``). Up to ~16 threads share one
account; when they all get a 401 at once only the first renews, and the others take the token it
fetched. Each token carries a *generation*: a thread asks for a renewal of the generation it used,
and if that generation is already replaced it gets the newer token without another fetch. At most
100 tokens may be active per user, which is one more reason never to fetch in bursts.

Refused credentials are not asked about again at once: after FeedAMP refuses ``get_token``, the
holder answers with the same refusal, without a request, for a back-off that starts at
``REFUSAL_BACKOFF_SECONDS`` (at most 10 token requests a minute) and doubles up to
``REFUSAL_BACKOFF_MAX_SECONDS``; every thread and job of the account shares it, so an account
with a wrong password pauses while the others go on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from feedamp_sync.errors import ApiAuthError, ApiUnavailable

REFUSAL_BACKOFF_SECONDS = 6.0
REFUSAL_BACKOFF_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class Token:
    """One token as issued; its repr leaves the value out so no log or traceback shows it."""

    value: str = field(repr=False)
    generation: int
    fetched_at: float


class TokenHolder:
    """Holds the current token and fetches a new one single-flight.

    ``fetch(deadline)`` performs the ``get_token`` call; it runs under the holder's lock, so at
    most one fetch is in flight and a token is fetched at most once per generation.
    """

    def __init__(
        self,
        fetch: Callable[[float], str],
        *,
        max_age_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._max_age_seconds = max_age_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._generation = 0
        self._refusal: ApiAuthError | None = None
        self._refusals = 0
        self._refused_until = 0.0

    def current(self, deadline: float) -> Token:
        """The token to send now: the held one, or a new one if none is held or it is too old."""
        token = self._token
        if token is not None and not self._too_old(token):
            return token
        with self._locked(deadline):
            token = self._token
            if token is None or self._too_old(token):
                token = self._renew_locked(deadline)
            return token

    def renew(self, deadline: float, *, stale: Token | None = None) -> Token:
        """A token newer than ``stale``; with no ``stale`` token, always a freshly fetched one.

        A thread whose request was refused with ``stale`` gets the token another thread already
        fetched in the meantime, if there is one, instead of fetching yet another.
        """
        with self._locked(deadline):
            token = self._token
            if stale is not None and token is not None and token.generation != stale.generation:
                return token
            return self._renew_locked(deadline)

    def newer_than(self, token: Token) -> Token | None:
        """The held token if another thread renewed it since ``token`` was handed out."""
        held = self._token
        return held if held is not None and held.generation > token.generation else None

    def _too_old(self, token: Token) -> bool:
        return (
            self._max_age_seconds is not None
            and self._monotonic() - token.fetched_at >= self._max_age_seconds
        )

    def _renew_locked(self, deadline: float) -> Token:
        if self._refusal is not None and self._monotonic() < self._refused_until:
            raise self._refusal
        try:
            value = self._fetch(deadline)
        except ApiAuthError as refusal:
            self._refusals += 1
            backoff = REFUSAL_BACKOFF_SECONDS * 2 ** (self._refusals - 1)
            self._refused_until = self._monotonic() + min(backoff, REFUSAL_BACKOFF_MAX_SECONDS)
            self._refusal = refusal
            raise
        self._refusal, self._refusals = None, 0
        self._generation += 1
        self._token = Token(value, self._generation, self._monotonic())
        return self._token

    @contextmanager
    def _locked(self, deadline: float) -> Iterator[None]:
        """Hold the lock, waiting for another thread's fetch no longer than the deadline allows."""
        if not self._lock.acquire(timeout=max(0.0, deadline - self._monotonic())):
            raise ApiUnavailable(
                "get_token: another thread's token renewal did not finish before the deadline",
                effect_unknown=False,
            )
        try:
            yield
        finally:
            self._lock.release()
