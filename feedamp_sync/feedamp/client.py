"""``FeedampClient``: one account's polite, thread-safe client for FeedAMP Order Management v1.

Each public call runs under one **deadline**: ``2 x timeout_seconds`` from the moment the
call starts (for the iterators, from the start of each page's request). Getting a token, waiting
for the rate limiter, every attempt and every backoff sleep must fit inside it: an attempt's
connect/read/write/pool timeouts are cut to the time left, an answer whose body is still
arriving at the deadline has its connection shut then (httpx's read timeout applies to each
read, so a server trickling bytes would otherwise stretch the call by up to one more read
timeout), and a limiter slot or a retry wait that would end past the deadline is not waited
for; the call fails with :class:`ApiUnavailable` instead.

Retries inside a call follow :mod:`feedamp_sync.retries` with ``get_attempts`` attempts and
:data:`CALL_BACKOFF`. A **read** (GET: list pages, get order, get return, get_token) is repeated
on any :class:`ApiUnavailable` (5xx, 429, timeout, connection failure): it has no effect on
FeedAMP. A **mutation** (PUT/POST) is repeated only when FeedAMP cannot have acted on it: the
connection was never made, or the answer was 429. After a 5xx, a timeout or a dropped connection
its outcome is unknown, so the error goes to the caller at once (the outbox engine reconciles and
retries). No retry waits past the deadline: the caller gets the last error, with its
``retry_after``. A 401 renews the token (once for all threads, see
:mod:`feedamp_sync.feedamp.auth`) and repeats the request (see ``_call``); other 4xx are final.
Three rate limiters per account: ``list`` for get new orders and search returns (FeedAMP asks
for at most 2 requests/s there), ``refresh`` for re-reading stored orders (so the refresh job
never takes a slot from a push), ``other`` for everything else, ``get_token`` included.
"""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Protocol
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr

from feedamp_sync.errors import ApiError, ApiUnavailable
from feedamp_sync.feedamp import responses
from feedamp_sync.feedamp.auth import Token, TokenHolder
from feedamp_sync.feedamp.classify import error_for_status
from feedamp_sync.feedamp.config import ClientConfig
from feedamp_sync.feedamp.pagination import Page, follow_cursor
from feedamp_sync.feedamp.params import flag, new_orders_params, returns_params
from feedamp_sync.feedamp.ratelimit import RateLimiter
from feedamp_sync.feedamp.retry import parse_retry_after, server_now
from feedamp_sync.feedamp.transport import HttpTransport, RawResponse, RequestNotSent
from feedamp_sync.logs import register_token
from feedamp_sync.retries import TOO_MANY_REQUESTS, Backoff, GiveUp, Jitter, RetryPolicy

log = structlog.get_logger(__name__)

DEADLINE_TIMEOUTS: Final = 2
"""A call's deadline, in multiples of ``timeout_seconds``: room for one slow attempt plus
retries or a token renewal, while a stuck FeedAMP still frees a worker thread promptly."""

CALL_BACKOFF: Final = Backoff(base_seconds=0.5, cap_seconds=30.0, jitter=Jitter.FULL)
"""Waits between attempts inside one call: short at first, as the call's deadline bounds them."""

TOKEN_REFUSALS_MAX: Final = 3
"""Sends of one request that may meet a 401 before the call gives up with ApiAuthError."""

_REDACTED: Final = "[redacted]"


class RequestObserver(Protocol):
    """Told about every HTTP attempt (``status`` None when no response came), for metrics."""

    def __call__(
        self, *, account: str, endpoint: str, status: int | None, seconds: float
    ) -> None: ...


@dataclass(frozen=True)
class _Request:
    endpoint: str
    method: str
    path: str
    limiter: RateLimiter
    params: Mapping[str, str] | None = None
    body: Any = None

    @property
    def idempotent(self) -> bool:
        return self.method == "GET"


class FeedampClient:
    """The FeedAMP API for one account, shared by every thread working on that account."""

    def __init__(
        self,
        config: ClientConfig,
        password: SecretStr,
        *,
        transport: httpx.BaseTransport | None = None,
        tls: ssl.SSLContext | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        observer: RequestObserver | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """``tls``: a context shared with the other accounts' clients (see
        :func:`~feedamp_sync.feedamp.transport.tls_context`); None builds one of its own."""
        self.account_name: Final = config.account
        self._client_id = config.client_id
        self._paths = config.paths
        self._page_size = config.page_size
        self._include_raw = config.include_raw
        self._marketplace_fulfilled = config.marketplace_fulfilled
        self._password = password
        self._monotonic = monotonic
        self._sleep = sleep
        self._observer = observer
        self._budget_seconds = DEADLINE_TIMEOUTS * config.timeout_seconds
        self._retry = RetryPolicy(max_attempts=config.get_attempts, backoff=CALL_BACKOFF)
        self._rng = rng
        self._list = RateLimiter(config.list_rate_per_second, monotonic=monotonic, sleep=sleep)
        self._other = RateLimiter(config.rate_per_second, monotonic=monotonic, sleep=sleep)
        self._refresh = RateLimiter(
            config.refresh_rate_per_second, monotonic=monotonic, sleep=sleep
        )
        self._tokens = TokenHolder(
            self._fetch_token, max_age_seconds=config.token_max_age_seconds, monotonic=monotonic
        )
        self._http = HttpTransport(
            base_url=config.base_url,
            username=config.username,
            password=password,
            client_id=config.client_id,
            timeout_seconds=config.timeout_seconds,
            connect_timeout_seconds=config.connect_timeout_seconds,
            transport=transport,
            tls=tls,
        )

    def close(self) -> None:
        self._http.close()

    @property
    def action_budget(self) -> RateLimiter:
        """The account's rate budget for everything but the list endpoints: the outbox hands a
        worker this account's message only when the budget admits a request."""
        return self._other

    def __enter__(self) -> FeedampClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- public calls ------------------------------------------------------------------------

    def renew_token(self) -> None:
        """Fetch a new token now (``check`` uses it to prove the credentials work)."""
        self._tokens.renew(self._deadline())

    def iter_new_orders(self, *, page_size: int | None = None) -> Iterator[Page]:
        """Every order not yet confirmed, one page per request (``limit`` = page size), with
        the account's ``marketplace_fulfilled`` filter and ``include_raw``."""
        params = new_orders_params(
            limit=self._page_size if page_size is None else page_size,
            marketplace_fulfilled=self._marketplace_fulfilled,
            include_raw=self._include_raw,
        )
        return self._pages("new_orders", self._paths.new_orders, params, "orders")

    def get_order(self, order_id: str) -> dict[str, Any]:
        """The order as FeedAMP holds it now, for a push's read-back."""
        content = self._get("get_order", _path(self._paths.order, order_id=order_id))
        return responses.wrapped_record("get_order", content, "order")

    def refresh_order(self, order_id: str) -> dict[str, Any]:
        """The order, to be stored: on the refresh budget, with the account's ``include_raw``."""
        path = _path(self._paths.order, order_id=order_id)
        params = {"include_raw": flag(True)} if self._include_raw else None
        request = _Request("get_order", "GET", path, self._refresh, params=params)
        return responses.wrapped_record("get_order", self._call(request), "order")

    def confirm_order(self, order_id: str, cp_order_number: str) -> dict[str, Any]:
        """Confirm with our number; returns the order object FeedAMP answers with."""
        path = _path(self._paths.confirm, order_id=order_id)
        content = self._change("confirm", "PUT", path, {"cp_order_number": cp_order_number})
        return responses.confirmed_order(content)

    def fulfill_order(self, order_id: str, body: Mapping[str, Any]) -> Any:
        """PUT the complete set of fulfillments (it replaces FeedAMP's); returns its answer."""
        path = _path(self._paths.fulfill, order_id=order_id)
        return responses.fulfill_result(self._change("fulfill", "PUT", path, dict(body)))

    def create_refund(self, order_id: str, refund_info: Mapping[str, Any]) -> dict[str, Any]:
        """POST one line's refund, sent as ``{"refund_info": refund_info}``."""
        path = _path(self._paths.refund, order_id=order_id)
        content = self._change("refund", "POST", path, {"refund_info": dict(refund_info)})
        return responses.refund(content)

    def iter_returns(
        self,
        *,
        open: bool | None = None,
        states: Sequence[str] | None = None,
        refreshed_after: datetime | None = None,
        created_after: datetime | None = None,
        merchant_return_number: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Page]:
        """Search returns, one page per request. Raises ValueError at once for a naive datetime."""
        params = returns_params(
            limit=self._page_size if page_size is None else page_size,
            open=open,
            states=states,
            refreshed_after=refreshed_after,
            created_after=created_after,
            merchant_return_number=merchant_return_number,
        )
        return self._pages("search_returns", self._paths.returns, params, "returns")

    def get_return(self, return_id: str) -> dict[str, Any]:
        content = self._get("get_return", _path(self._paths.return_, return_id=return_id))
        return responses.wrapped_record("get_return", content, "return")

    def authorize_return(self, return_id: str, merchant_return_number: str) -> dict[str, Any]:
        path = _path(self._paths.authorize_return, return_id=return_id)
        body = {"merchant_return_number": merchant_return_number}
        content = self._change("authorize_return", "PUT", path, body)
        return responses.wrapped_record("authorize_return", content, "return")

    def refund_return(self, return_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        path = _path(self._paths.refund_return, return_id=return_id)
        content = self._change("refund_return", "PUT", path, dict(body))
        return responses.wrapped_record("refund_return", content, "return")

    # -- one call ----------------------------------------------------------------------------

    def _get(self, endpoint: str, path: str) -> bytes:
        return self._call(_Request(endpoint, "GET", path, self._other))

    def _change(self, endpoint: str, method: str, path: str, body: Any) -> bytes:
        return self._call(_Request(endpoint, method, path, self._other, body=body))

    def _pages(
        self, endpoint: str, path: str, params: Mapping[str, str], key: str
    ) -> Iterator[Page]:
        def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
            query = dict(params) if cursor is None else {**params, "cursor": cursor}
            content = self._call(_Request(endpoint, "GET", path, self._list, params=query))
            return responses.page(endpoint, content, key)

        def on_repeat(cursor: str) -> None:
            log.warning(
                "pagination_cursor_repeated",
                account=self.account_name,
                endpoint=endpoint,
                cursor=cursor,
            )

        def on_no_progress(cursor: str | None) -> None:
            log.warning(
                "pagination_no_progress",
                account=self.account_name,
                endpoint=endpoint,
                cursor=cursor,
                hint="a page held only items this pass had already read",
            )

        return follow_cursor(fetch, on_repeat=on_repeat, on_no_progress=on_no_progress)

    def _deadline(self) -> float:
        return self._monotonic() + self._budget_seconds

    def _call(self, request: _Request) -> bytes:
        """The body of a 2xx answer; a 401 repeats the request with a newer token.

        The newer token is one another thread fetched since ours was handed out, when there is
        one (tokens are churning, so the refusal says nothing about our credentials), else one
        this call fetches: at most one ``get_token`` per call. A 401 with a token fetched for
        this call, or a request refused ``TOKEN_REFUSALS_MAX`` times, is an ApiAuthError.
        """
        deadline = self._deadline()
        token = self._tokens.current(deadline)
        renewed = False
        refusals = 0
        while True:
            response = self._attempts(request, deadline, token)
            if response.status != 401:
                return response.content
            refusals += 1
            log.info("api_token_refused", account=self.account_name, endpoint=request.endpoint)
            newer = self._tokens.newer_than(token)
            if refusals >= TOKEN_REFUSALS_MAX or (newer is None and renewed):
                raise self._error(request, response, token)
            if newer is None:
                newer = self._tokens.renew(deadline, stale=token)
                renewed = True
            token = newer

    def _fetch_token(self, deadline: float) -> str:
        request = _Request("get_token", "GET", self._paths.get_token, self._other)
        value = responses.token(self._attempts(request, deadline, None).content)
        register_token(self.account_name, value)
        log.info("api_token_fetched", account=self.account_name)
        return value

    def _attempts(self, request: _Request, deadline: float, token: Token | None) -> RawResponse:
        """A 2xx response (or a 401 to a token-bearing request), retrying by the retry policy."""
        attempt = 0
        while True:
            attempt += 1
            self._admit(request, deadline)
            try:
                response = self._send(request, deadline, token, attempt)
                if 200 <= response.status < 300 or (response.status == 401 and token is not None):
                    return response
                raise self._error(request, response, token)
            except ApiUnavailable as error:
                effect_unknown = not (request.idempotent or isinstance(error, RequestNotSent))
                decision = self._retry.after(
                    error,
                    attempts=attempt,
                    rng=self._rng,
                    seconds_left=deadline - self._monotonic(),
                    effect_unknown=effect_unknown,
                )
                if isinstance(decision, GiveUp):
                    # What the outbox records of the attempt: only a mutation that may have
                    # been processed leaves its outcome unknown (a 429 was refused before).
                    error.effect_unknown = effect_unknown and error.status_code != TOO_MANY_REQUESTS
                    raise
                delay = decision.wait_seconds
                log.info(
                    "api_retry",
                    account=self.account_name,
                    endpoint=request.endpoint,
                    attempt=attempt,
                    status=error.status_code,
                    reason=error.message,
                    delay_seconds=round(delay, 3),
                )
                self._sleep(delay)

    def _admit(self, request: _Request, deadline: float) -> None:
        """Take a rate-limiter slot, or fail now if none opens before the deadline."""
        if request.limiter.acquire(deadline) is None or self._monotonic() >= deadline:
            raise ApiUnavailable(
                f"{request.endpoint}: no request slot before the {self._budget_seconds:g} s "
                "deadline (rate limit)",
                effect_unknown=False,
            )

    def _send(
        self, request: _Request, deadline: float, token: Token | None, attempt: int
    ) -> RawResponse:
        """One HTTP attempt, logged and reported to the observer whatever its outcome."""
        started = self._monotonic()
        status: int | None = None
        failure: str | None = None
        try:
            response = self._http.send(
                endpoint=request.endpoint,
                method=request.method,
                path=request.path,
                token=token,
                params=request.params,
                body=request.body,
                seconds_left=deadline - started,
            )
        except ApiUnavailable as error:
            failure = error.message
            raise
        else:
            status = response.status
            return response
        finally:
            seconds = self._monotonic() - started
            log.debug(
                "api_request",
                account=self.account_name,
                endpoint=request.endpoint,
                method=request.method,
                status=status,
                duration_ms=round(seconds * 1000, 1),
                attempt=attempt,
                **({"error": failure} if failure is not None else {}),
            )
            if self._observer is not None:
                self._observer(
                    account=self.account_name,
                    endpoint=request.endpoint,
                    status=status,
                    seconds=seconds,
                )

    def _error(self, request: _Request, response: RawResponse, token: Token | None) -> ApiError:
        """Our error for a non-2xx response, with the API's reason stripped of any secret."""
        if request.endpoint == "get_token":
            message = response.reason  # a get_token body is never read beyond its status
        else:
            message = self._redact(responses.error_message(response.content), token)
        retry_after = (
            parse_retry_after(response.retry_after, now=server_now(response.date))
            if response.status in (429, 503)
            else None
        )
        return error_for_status(
            endpoint=request.endpoint,
            account=self.account_name,
            client_id=self._client_id,
            status=response.status,
            message=message or response.reason or f"HTTP {response.status}",
            retry_after=retry_after,
        )

    def _redact(self, text: str, token: Token | None) -> str:
        """The text without our password or token, should FeedAMP ever echo one back."""
        for secret in (self._password.get_secret_value(), token.value if token else ""):
            if secret:
                text = text.replace(secret, _REDACTED)
        return text


def _path(template: str, **ids: str) -> str:
    """A configured path with its ids filled in; an empty id would silently change the route."""
    for name, value in ids.items():
        if not value:
            raise ValueError(f"{name} must be a non-empty string")
    return template.format(**{name: quote(value, safe="") for name, value in ids.items()})
