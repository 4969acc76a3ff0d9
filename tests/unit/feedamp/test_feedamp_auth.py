"""Token holding and single-flight renewal, alone and across real threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from feedamp_sync.errors import ApiAuthError, ApiUnavailable
from feedamp_sync.feedamp.auth import REFUSAL_BACKOFF_MAX_SECONDS, Token, TokenHolder
from tests.unit.feedamp.feedamp_fakes import (
    FakeClock,
    FakeFeedamp,
    json_response,
    make_client,
    token_value,
)

DEADLINE = 1e9


class CountingFetch:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, deadline: float) -> str:
        self.calls += 1
        return f"t{self.calls}"


def test_first_use_fetches_a_token() -> None:
    """With no token held, current() fetches one."""
    holder = TokenHolder(CountingFetch())
    assert holder.current(DEADLINE).value == "t1"


def test_a_held_token_is_reused() -> None:
    """current() does not fetch again while the token is held."""
    fetch = CountingFetch()
    holder = TokenHolder(fetch)
    holder.current(DEADLINE)
    holder.current(DEADLINE)
    assert fetch.calls == 1


def test_renewing_the_current_generation_fetches_a_new_token() -> None:
    """A refused current token is replaced by a new generation."""
    holder = TokenHolder(CountingFetch())
    old = holder.current(DEADLINE)
    new = holder.renew(DEADLINE, stale=old)
    assert (new.value, new.generation) == ("t2", old.generation + 1)


def test_renewing_a_replaced_generation_reuses_the_newer_token() -> None:
    """A thread refused with an old token takes the one another thread already fetched."""
    fetch = CountingFetch()
    holder = TokenHolder(fetch)
    old = holder.current(DEADLINE)
    newer = holder.renew(DEADLINE, stale=old)
    assert holder.renew(DEADLINE, stale=old) is newer
    assert fetch.calls == 2


def test_newer_than_reports_a_token_renewed_by_another_thread() -> None:
    """newer_than() gives the held token only when its generation is later."""
    holder = TokenHolder(CountingFetch())
    old = holder.current(DEADLINE)
    assert holder.newer_than(old) is None
    newer = holder.renew(DEADLINE, stale=old)
    assert holder.newer_than(old) is newer


def test_renewing_without_a_stale_token_always_fetches() -> None:
    """renew() with no stale token (the ``check`` command) always asks FeedAMP."""
    fetch = CountingFetch()
    holder = TokenHolder(fetch)
    holder.renew(DEADLINE)
    holder.renew(DEADLINE)
    assert fetch.calls == 2


def test_a_token_older_than_the_max_age_is_renewed_before_use() -> None:
    """With token_max_age_seconds set, an old token is replaced proactively."""
    clock = FakeClock()
    holder = TokenHolder(CountingFetch(), max_age_seconds=600, monotonic=clock.monotonic)
    holder.current(DEADLINE)
    clock.advance(599)
    assert holder.current(DEADLINE).value == "t1"
    clock.advance(1)
    assert holder.current(DEADLINE).value == "t2"


def test_a_token_repr_leaves_the_value_out() -> None:
    """Logging or printing a Token never shows the token."""
    assert "s3cr3t" not in repr(Token("s3cr3t", 1, 0.0))


def test_waiting_for_a_stuck_renewal_ends_at_the_deadline() -> None:
    """A thread does not wait past its deadline for another thread's slow fetch."""
    release = threading.Event()

    def slow_fetch(deadline: float) -> str:
        release.wait(timeout=10)
        return "t"

    holder = TokenHolder(slow_fetch)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(holder.current, DEADLINE)
        time.sleep(0.05)
        try:
            with pytest.raises(ApiUnavailable, match="did not finish before the deadline"):
                holder.current(time.monotonic() + 0.05)
        finally:
            release.set()


def test_threads_refused_together_share_one_renewal() -> None:
    """Sixteen threads that all get a 401 with the same token cause exactly one renewal."""
    threads = 16
    barrier = threading.Barrier(threads, timeout=10)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["token"] == token_value(1):
            barrier.wait()  # every thread has sent the old token before any 401 comes back
            return json_response(401, {"error": "token expired"})
        return json_response(200, {"order": [{"id": request.url.path.rsplit("/", 1)[-1]}]})

    fake = FakeFeedamp(handler)
    client = make_client(fake, rate_per_second=1e6, list_rate_per_second=1e6)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(client.get_order, str(n)) for n in range(threads)]
        orders = [future.result(timeout=20) for future in futures]
    assert [order["id"] for order in orders] == [str(n) for n in range(threads)]
    assert fake.tokens_issued == 2


class RefusingFetch:
    """A get_token that FeedAMP refuses until told otherwise."""

    def __init__(self) -> None:
        self.calls = 0
        self.refuse = True

    def __call__(self, deadline: float) -> str:
        self.calls += 1
        if self.refuse:
            raise ApiAuthError("FeedAMP refused the username or password", status_code=401)
        return f"t{self.calls}"


def test_refused_credentials_are_not_asked_again_within_the_backoff() -> None:
    """After a refusal, token requests within 6 s fail at once without reaching FeedAMP."""
    clock, fetch = FakeClock(), RefusingFetch()
    holder = TokenHolder(fetch, monotonic=clock.monotonic)
    for _ in range(5):
        with pytest.raises(ApiAuthError):
            holder.current(DEADLINE)
        clock.advance(1)
    assert fetch.calls == 1


def test_the_refusal_backoff_doubles_and_ends_with_success() -> None:
    """Refusals are retried after 6 s, then 12 s; a success ends the back-off."""
    clock, fetch = FakeClock(), RefusingFetch()
    holder = TokenHolder(fetch, monotonic=clock.monotonic)
    calls_at: list[int] = []
    for _ in range(20):
        try:
            holder.current(DEADLINE)
        except ApiAuthError:
            calls_at.append(fetch.calls)
        clock.advance(1)
    assert calls_at[0] == 1
    assert calls_at[6] == 2  # 6 s after the first refusal
    assert calls_at[18] == 3  # 12 s after the second
    fetch.refuse = False
    clock.advance(REFUSAL_BACKOFF_MAX_SECONDS)
    assert holder.current(DEADLINE).value == "t4"


def test_a_refused_account_makes_at_most_ten_token_requests_a_minute() -> None:
    """However often the jobs ask, a refused account reaches get_token at most 10 times a
    minute."""
    clock, fetch = FakeClock(), RefusingFetch()
    holder = TokenHolder(fetch, monotonic=clock.monotonic)
    for _ in range(600):
        with pytest.raises(ApiAuthError):
            holder.renew(DEADLINE)
        clock.advance(0.1)
    assert fetch.calls <= 10
