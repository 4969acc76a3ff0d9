"""Injected faults: each one's answer on the wire and whether the effect happened."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer

from .conftest import TLS, wait_for


def confirm(api: httpx.Client, order_id: str, number: str = "FA-1") -> httpx.Response:
    return api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": number})


def test_error_5xx_answers_an_error_without_effect(sandbox: Sandbox, api: httpx.Client) -> None:
    """error_5xx answers 500/502/503 with an error body and does not confirm the order."""
    (order_id,) = sandbox.add_orders(1)
    sandbox.set_faults(Faults(error_5xx=1.0))
    response = confirm(api, order_id)
    assert response.status_code in (500, 502, 503)
    assert "error" in response.json()
    assert (sandbox.effects(), sandbox.ledger("confirm")[0].fault) == ([], "error_5xx")


def test_rate_limited_answers_429_with_retry_after(sandbox: Sandbox, api: httpx.Client) -> None:
    """rate_limited answers 429 with Retry-After set to retry_after_seconds, no effect."""
    (order_id,) = sandbox.add_orders(1)
    sandbox.set_faults(Faults(rate_limited=1.0, retry_after_seconds=7))
    response = confirm(api, order_id)
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert sandbox.effects() == []


def test_slow_answers_late_and_applies_the_effect_after_the_wait(
    sandbox: Sandbox, server: SandboxServer, api: httpx.Client
) -> None:
    """slow holds the answer past a short client timeout; the confirm still lands afterwards,
    and from then on the request no longer counts as in progress."""
    (order_id,) = sandbox.add_orders(1)
    sandbox.set_faults(Faults(slow=1.0, slow_seconds=0.4))
    with pytest.raises(httpx.ReadTimeout):
        api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": "FA-1"}, timeout=0.1)
    assert wait_for(lambda: len(sandbox.effects("confirm")) == 1)
    assert sandbox.requests_in_progress() == 0


def test_drop_closes_the_connection_without_a_byte(
    sandbox: Sandbox, server: SandboxServer, api: httpx.Client
) -> None:
    """drop closes the socket without writing any response, and confirms nothing."""
    (order_id,) = sandbox.add_orders(1)
    sandbox.set_faults(Faults(drop=1.0))
    body = json.dumps({"cp_order_number": "FA-1"}).encode()
    head = (
        f"PUT /api/v1/orders/{order_id}/confirm HTTP/1.1\r\nHost: sandbox\r\n"
        f"token: {api.headers['token']}\r\nclient: 1\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=2.0) as raw:
        raw.sendall(head.encode() + body)
        try:
            received = raw.recv(65536)
        except ConnectionResetError:
            received = b""
    assert received == b""
    assert sandbox.effects() == []
    assert [(e.status, e.fault) for e in sandbox.ledger("confirm")] == [(None, "drop")]


def test_drop_is_a_transport_error_for_httpx(sandbox: Sandbox, api: httpx.Client) -> None:
    """A client sees a dropped request as a disconnect, not as an HTTP status."""
    sandbox.set_faults(Faults(drop=1.0))
    with pytest.raises(httpx.TransportError):
        api.get("/api/v1/orders/new")


def test_apply_then_fail_applies_the_effect_then_fails(sandbox: Sandbox, api: httpx.Client) -> None:
    """apply_then_fail confirms the order, then answers 500 or drops the connection."""
    (order_id,) = sandbox.add_orders(1)
    sandbox.set_faults(Faults(apply_then_fail=1.0))
    try:
        status: int | None = confirm(api, order_id).status_code
    except httpx.TransportError:
        status = None
    assert status in (500, None)
    assert sandbox.confirmed_orders() == {order_id: "FA-1"}
    assert sandbox.ledger("confirm")[0].fault == "apply_then_fail"


def test_faults_hit_only_the_named_endpoints(sandbox: Sandbox, api: httpx.Client) -> None:
    """With endpoints={"confirm"}, other endpoints answer normally."""
    (order_id,) = sandbox.add_orders(1)
    sandbox.set_faults(Faults(error_5xx=1.0, endpoints={"confirm"}))
    assert api.get("/api/v1/orders/new").status_code == 200
    assert confirm(api, order_id).status_code >= 500


def test_get_token_is_faulted_only_with_include_token(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    """Faults spare get_token unless include_token is set."""
    sandbox.set_faults(Faults(error_5xx=1.0))
    spared = client.get("/api/v1/get_token", auth=("demo", "demo-password")).status_code
    sandbox.set_faults(include_token=True)
    hit = client.get("/api/v1/get_token", auth=("demo", "demo-password")).status_code
    assert (spared, hit >= 500) == (200, True)


def test_fault_probabilities_draw_from_the_seed(sandbox: Sandbox, api: httpx.Client) -> None:
    """A probability of 0.5 faults some requests and spares others."""
    sandbox.set_faults(Faults(error_5xx=0.5))
    statuses = {api.get("/api/v1/orders/new").status_code for _ in range(40)}
    assert 200 in statuses
    assert statuses & {500, 502, 503}


def test_set_faults_with_fields_keeps_the_others(sandbox: Sandbox) -> None:
    """set_faults(field=...) changes that field and keeps the rest of the configuration."""
    sandbox.set_faults(Faults(drop=0.1, token_expiry_requests=40))
    changed = sandbox.set_faults(error_5xx=0.2)
    assert (changed.drop, changed.token_expiry_requests, changed.error_5xx) == (0.1, 40, 0.2)


def test_faults_validate_their_values() -> None:
    """A probability outside [0, 1] or an unknown endpoint name is refused."""
    with pytest.raises(ValueError, match="error_5xx"):
        Faults(error_5xx=1.5)
    with pytest.raises(ValueError, match="unknown endpoint"):
        Faults(endpoints={"confirm", "nope"})


def test_faults_can_be_given_at_construction() -> None:
    """Faults passed to Sandbox apply from the first request."""
    sandbox = Sandbox(seed=1, faults=Faults(rate_limited=1.0))
    with (
        SandboxServer(sandbox) as server,
        httpx.Client(base_url=server.base_url, timeout=5.0, verify=TLS) as client,
    ):
        token = client.get("/api/v1/get_token", auth=("demo", "demo-password")).json()["token"]
        response = client.get("/api/v1/orders/new", headers={"token": token, "client": "1"})
    assert response.status_code == 429
