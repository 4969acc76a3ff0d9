"""Tokens from Basic credentials, then token + client on every call."""

from __future__ import annotations

import httpx

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer

from .conftest import CLIENT_ID, PASSWORD, TIMEOUT, TLS, USERNAME, FakeClock, fetch_token

NEW_ORDERS = "/api/v1/orders/new"


def test_get_token_returns_an_opaque_token_for_correct_credentials(client: httpx.Client) -> None:
    """get_token with the configured Basic credentials answers 200 with a ~100 char token."""
    response = client.get("/api/v1/get_token", auth=(USERNAME, PASSWORD))
    assert response.status_code == 200
    assert 80 <= len(response.json()["token"]) <= 140


def test_get_token_refuses_wrong_credentials(client: httpx.Client) -> None:
    """A wrong password is a 401 with an error body."""
    response = client.get("/api/v1/get_token", auth=(USERNAME, "wrong"))
    assert response.status_code == 401
    assert "error" in response.json()


def test_api_call_without_token_is_401(client: httpx.Client) -> None:
    """An endpoint called without a token header is a 401."""
    response = client.get(NEW_ORDERS, headers={"client": str(CLIENT_ID)})
    assert response.status_code == 401


def test_api_call_with_unknown_token_is_401(client: httpx.Client) -> None:
    """A token the sandbox never issued is a 401."""
    response = client.get(NEW_ORDERS, headers={"token": "forged", "client": str(CLIENT_ID)})
    assert response.status_code == 401


def test_valid_token_with_wrong_client_is_403(client: httpx.Client) -> None:
    """A valid token with another client id is a 403 "client id not authorized"."""
    token = fetch_token(client)
    response = client.get(NEW_ORDERS, headers={"token": token, "client": "999"})
    assert response.status_code == 403
    assert response.json() == {"error": "client id not authorized"}


def test_basic_auth_is_accepted_but_not_required(client: httpx.Client) -> None:
    """token + client alone are enough; adding correct Basic auth changes nothing."""
    headers = {"token": fetch_token(client), "client": str(CLIENT_ID)}
    assert client.get(NEW_ORDERS, headers=headers).status_code == 200
    assert client.get(NEW_ORDERS, headers=headers, auth=(USERNAME, PASSWORD)).status_code == 200


def test_token_expires_after_its_ttl(clock: FakeClock) -> None:
    """A token older than token_ttl_seconds is a 401, and a new token works again."""
    sandbox = Sandbox(seed=1, token_ttl_seconds=60.0, clock=clock)
    with (
        SandboxServer(sandbox) as server,
        httpx.Client(base_url=server.base_url, timeout=TIMEOUT, verify=TLS) as client,
    ):
        token = fetch_token(client)
        clock.advance(61)
        expired = client.get(NEW_ORDERS, headers={"token": token, "client": "1"})
        fresh = client.get(NEW_ORDERS, headers={"token": fetch_token(client), "client": "1"})
    assert (expired.status_code, fresh.status_code) == (401, 200)


def test_token_expires_after_token_expiry_requests(sandbox: Sandbox, client: httpx.Client) -> None:
    """With token_expiry_requests=3 the fourth call with one token is a 401 noted as a fault."""
    sandbox.set_faults(Faults(token_expiry_requests=3))
    headers = {"token": fetch_token(client), "client": str(CLIENT_ID)}
    statuses = [client.get(NEW_ORDERS, headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 401]
    assert sandbox.ledger("new_orders")[-1].fault == "token_expiry"
