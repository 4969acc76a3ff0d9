"""How an attempt's end becomes the message's next state, and the confirm handler's rules."""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from feedamp_sync.clients import client_config
from feedamp_sync.core.attempts import OrderConfirmed
from feedamp_sync.errors import (
    ActionConflict,
    ApiAuthError,
    ApiRejected,
    ApiUnavailable,
    InvalidPayload,
    LeaseExpired,
)
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.confirm import CONFIRM
from feedamp_sync.outbox.delivery import Delivered, conclude
from feedamp_sync.outbox.engine import Leases
from feedamp_sync.outbox.kind import planned_request
from feedamp_sync.outbox.payloads import check_payload
from feedamp_sync.outbox.refund import RefundPlan
from feedamp_sync.retries import Backoff, Jitter, RetryPolicy
from feedamp_sync.settings import AccountSettings, ApiSettings

NOW = datetime(2026, 5, 1, tzinfo=UTC)
POLICY = RetryPolicy(
    max_attempts=3, backoff=Backoff(base_seconds=1, cap_seconds=10, jitter=Jitter.EQUAL)
)


def message(attempts: int = 1, payload: Any = None) -> OutboxMessage:
    return OutboxMessage(
        1,
        "main",
        "confirm",
        "42",
        payload if payload is not None else {"cp_order_number": "FA42"},
        attempts,
    )


def end(outcome: Delivered | BaseException, attempts: int = 1) -> Any:
    return conclude(message(attempts), outcome, now=NOW, policy=POLICY, rng=random.Random(3).random)


def test_a_delivery_is_sent() -> None:
    """A successful delivery records the request, response and status code."""
    result = end(Delivered(request={"a": 1}, response={"b": 2}, status_code=200))
    assert (result.outcome, result.request, result.response) == ("sent", {"a": 1}, {"b": 2})


def test_unavailable_is_retried_later() -> None:
    """A 5xx-like failure is retried after a backoff, keeping the error text."""
    result = end(ApiUnavailable("busy", status_code=503))
    assert (result.outcome, result.status_code, result.error) == ("retry", 503, "HTTP 503: busy")
    assert result.next_attempt_at > NOW


def test_retry_after_sets_the_next_attempt() -> None:
    """A 429's Retry-After is the delay."""
    result = end(ApiUnavailable("slow down", status_code=429, retry_after=4))
    assert result.next_attempt_at == NOW + timedelta(seconds=4)


def test_a_rejection_is_dead_with_the_api_reason() -> None:
    """A 4xx rejection is final and keeps FeedAMP's message."""
    result = end(ApiRejected("order is complete", status_code=400))
    assert (result.outcome, result.error) == ("dead", "HTTP 400: order is complete")


def test_the_last_attempt_failing_is_dead_and_says_so() -> None:
    """Retryable failures stop at max_attempts with a reason that counts them."""
    result = end(ApiUnavailable("busy", status_code=503), attempts=3)
    assert result.outcome == "dead"
    assert result.error.startswith("gave up after 3 attempts")


def test_an_auth_failure_defers_without_counting() -> None:
    """Refused credentials put the message back for later; the attempt does not count."""
    result = end(ApiAuthError("refused", status_code=401))
    assert (result.outcome, result.next_attempt_at) == ("deferred", NOW + timedelta(seconds=60))


def test_an_invalid_payload_is_dead() -> None:
    """A payload that fails validation cannot succeed later: dead with the field named."""
    result = end(InvalidPayload(["cp_order_number: required"]))
    assert (result.outcome, result.error) == ("dead", "invalid payload: cp_order_number: required")


def test_an_unexpected_error_is_retried() -> None:
    """A bug in a handler is retried (it may be transient) and described."""
    result = end(KeyError("x"))
    assert (result.outcome, result.error) == ("retry", "internal error: KeyError: 'x'")


@pytest.mark.parametrize(
    ("outcome", "unknown"),
    [
        (ApiUnavailable("timed out", effect_unknown=True), True),
        (ApiUnavailable("could not connect", effect_unknown=False), False),
        (ApiRejected("duplicate cp_refund_number", status_code=409), False),
        (ApiAuthError("refused", status_code=401), False),
        (ActionConflict("confirmed with another number"), False),
        (InvalidPayload(["cp_order_number: required"]), False),
        (KeyError("x"), True),
    ],
    ids=[
        "unavailable-unknown",
        "unavailable-known",
        "rejected",
        "auth",
        "conflict",
        "invalid",
        "crash",
    ],
)
def test_an_attempt_records_whether_its_effect_is_unknown(
    outcome: BaseException, unknown: bool
) -> None:
    """Only a request that may have been processed unseen, or a fault in the kind's own
    code after it may have sent, leaves an attempt's effect unknown."""
    result = conclude(
        message(), outcome, now=NOW, policy=POLICY, rng=random.Random(3).random, delivering=True
    )
    assert result.effect_unknown is unknown


def test_a_message_refused_before_delivery_had_no_effect() -> None:
    """A fault while preparing it (no request made) is a known non-effect."""
    result = conclude(message(), KeyError("x"), now=NOW, policy=POLICY, rng=random.Random(3).random)
    assert result.effect_unknown is False


@pytest.mark.parametrize("payload", [[], {"cp_order_number": ""}, {"cp_order_number": 5}, {}])
def test_confirm_payload_needs_a_number(payload: Any) -> None:
    """A confirm payload without a non-empty string number is refused."""
    with pytest.raises(InvalidPayload):
        check_payload(CONFIRM, payload)


def client_for(routes: dict[tuple[str, str], httpx.Response], calls: list[str]) -> FeedampClient:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/get_token"):
            return httpx.Response(200, json={"token": "t" * 40})
        return routes[(request.method, request.url.path)]

    account = AccountSettings(
        name="main", base_url="http://feedamp.test", username="u", client_id=1
    )
    return FeedampClient(
        client_config(account, ApiSettings(rate_per_second=1000)),
        SecretStr("pw"),
        transport=httpx.MockTransport(handle),
    )


def order_json(state: str, number: str | None) -> httpx.Response:
    return httpx.Response(
        200,
        content=json.dumps(
            {"order": [{"id": "42", "state": state, "order_info": {"cp_order_number": number}}]}
        ),
    )


def test_a_first_attempt_confirms_without_reading_back() -> None:
    """Attempt 1 sends the confirm straight away."""
    calls: list[str] = []
    client = client_for(
        {
            ("PUT", "/api/v1/orders/42/confirm"): httpx.Response(
                200, json={"order": {"id": "42", "cp_order_number": "FA42", "state": "PLACED"}}
            )
        },
        calls,
    )
    delivered = CONFIRM.deliver(client, message())
    assert (delivered.reconciled, calls[-1]) == (False, "PUT /api/v1/orders/42/confirm")


def test_a_retry_finds_our_number_and_sends_nothing() -> None:
    """After an unknown outcome, our number on the order means done: no second confirm."""
    calls: list[str] = []
    client = client_for({("GET", "/api/v1/orders/42"): order_json("PLACED", "FA42")}, calls)
    delivered = CONFIRM.deliver(client, message(attempts=2))
    assert delivered.reconciled
    assert "PUT /api/v1/orders/42/confirm" not in calls


def test_a_retry_of_an_unconfirmed_order_sends_the_same_number() -> None:
    """If the read-back shows the order unconfirmed, the stored number is sent."""
    calls: list[str] = []
    client = client_for(
        {
            ("GET", "/api/v1/orders/42"): order_json("ORDERED", None),
            ("PUT", "/api/v1/orders/42/confirm"): httpx.Response(
                200, json={"order": {"id": "42", "cp_order_number": "FA42", "state": "PLACED"}}
            ),
        },
        calls,
    )
    delivered = CONFIRM.deliver(client, message(attempts=2))
    assert (delivered.reconciled, delivered.request) == (False, {"cp_order_number": "FA42"})


def test_another_number_on_the_order_is_a_conflict() -> None:
    """An order confirmed with a different number is never confirmed again."""
    client = client_for({("GET", "/api/v1/orders/42"): order_json("PLACED", "ELSE-1")}, [])
    with pytest.raises(ActionConflict, match="ELSE-1"):
        CONFIRM.deliver(client, message(attempts=2))


def test_a_409_on_a_first_attempt_is_checked_by_reading_back() -> None:
    """A 409 "already confirmed" is judged by FeedAMP's copy: our number there is success."""
    client = client_for(
        {
            ("PUT", "/api/v1/orders/42/confirm"): httpx.Response(
                409, json={"error": "order already confirmed"}
            ),
            ("GET", "/api/v1/orders/42"): order_json("PLACED", "FA42"),
        },
        [],
    )
    assert CONFIRM.deliver(client, message()).reconciled


def test_a_409_with_the_order_still_unconfirmed_is_a_rejection() -> None:
    """A rejection the read-back does not explain is passed on (the message goes dead)."""
    client = client_for(
        {
            ("PUT", "/api/v1/orders/42/confirm"): httpx.Response(
                409, json={"error": "duplicate cp_order_number"}
            ),
            ("GET", "/api/v1/orders/42"): order_json("ORDERED", None),
        },
        [],
    )
    with pytest.raises(ApiRejected, match="duplicate"):
        CONFIRM.deliver(client, message())


def test_a_claim_that_ran_out_before_sending_is_deferred_without_counting() -> None:
    """A worker whose lease ended before it sent sends nothing and gives the attempt back."""
    result = end(LeaseExpired("the claim ran out"))
    assert (result.outcome, result.next_attempt_at) == ("deferred", NOW)


def test_a_lease_is_held_until_it_runs_out() -> None:
    """The engine's local view: a granted lease is held; a zero-length one is not."""
    live, gone = Leases(60.0), Leases(0.0)
    live.granted([message()], time.monotonic())
    gone.granted([message()], time.monotonic())
    assert (live.held(message()), gone.held(message())) == (True, False)


def test_a_forgotten_lease_is_not_held() -> None:
    """A finished message's lease is dropped from the engine's view."""
    leases = Leases(60.0)
    leases.granted([message()], time.monotonic())
    leases.forget(message())
    assert not leases.held(message())


def test_a_failed_attempt_keeps_what_it_sent() -> None:
    """The request of a failed attempt is recorded, so `outbox show` can show it."""
    result = conclude(
        message(),
        ApiUnavailable("busy", status_code=503),
        now=NOW,
        policy=POLICY,
        rng=random.Random(3).random,
        request={"cp_order_number": "FA42"},
    )
    assert (result.outcome, result.request) == ("retry", {"cp_order_number": "FA42"})


def test_a_confirm_sends_its_payload_and_a_seller_action_its_plan() -> None:
    """What an attempt sends: the plan's request for seller actions, else the payload."""
    plan = RefundPlan({"cp_refund_number": "RF1", "mp_line_number": "L1"})
    assert planned_request(None, {"cp_order_number": "FA1"}) == {"cp_order_number": "FA1"}
    assert planned_request(plan, None) == {"refund_info": plan.refund_info}


def test_a_sent_confirm_marks_the_order_confirmed_with_feedamps_state() -> None:
    """The order FeedAMP answers a confirm with gives the local order its new state."""
    client = client_for(
        {
            ("PUT", "/api/v1/orders/42/confirm"): httpx.Response(
                200, json={"order": {"id": "42", "cp_order_number": "FA42", "state": "PLACED"}}
            )
        },
        [],
    )
    delivered = CONFIRM.deliver(client, message())
    assert delivered.confirmed == OrderConfirmed("main", "42", "PLACED")


def test_a_confirm_answer_without_a_state_leaves_the_state_unknown() -> None:
    """No state in FeedAMP's answer: the order is confirmed and keeps its stored state."""
    client = client_for(
        {
            ("PUT", "/api/v1/orders/42/confirm"): httpx.Response(
                200, json={"order": {"id": "42", "cp_order_number": "FA42"}}
            )
        },
        [],
    )
    assert CONFIRM.deliver(client, message()).confirmed == OrderConfirmed("main", "42", None)


def test_a_sent_attempt_carries_the_confirmation_to_the_record() -> None:
    """conclude passes a delivery's confirmation on, so the store marks the order."""
    confirmed = OrderConfirmed("main", "42", "PLACED")
    result = end(Delivered(request={}, response={}, confirmed=confirmed))
    assert (result.outcome, result.confirmed) == ("sent", confirmed)
