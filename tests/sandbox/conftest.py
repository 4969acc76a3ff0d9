"""Fixtures: a seeded sandbox served on 127.0.0.1, and httpx clients pointed at it."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from feedamp_sync.sandbox import Sandbox, SandboxServer

TIMEOUT = 5.0
USERNAME = "demo"
PASSWORD = "demo-password"
CLIENT_ID = 1
TLS = ssl.create_default_context()
"""Shared by every client: httpx would load the CA bundle again for each one (~0.1 s)."""


class FakeClock:
    """A settable clock for token ages and ``refreshed_at``; starts at 2024-01-01 UTC."""

    def __init__(self, now: float = 1_704_067_200.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll ``condition`` until true or ``timeout``; for effects that land after a response."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def order_line_numbers(order: dict[str, Any]) -> list[str]:
    return [line["mp_line_number"] for line in order["order_info"]["order_lines"]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(username=USERNAME, password=PASSWORD, client_id=CLIENT_ID, seed=7)


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    """An unauthenticated client (for get_token and the control endpoints)."""
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT, verify=TLS) as http:
        yield http


def fetch_token(client: httpx.Client) -> str:
    response = client.get("/api/v1/get_token", auth=(USERNAME, PASSWORD))
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


@pytest.fixture
def api(server: SandboxServer, client: httpx.Client) -> Iterator[httpx.Client]:
    """A client that sends a fresh token, the client id, and Basic auth on every call."""
    headers = {"token": fetch_token(client), "client": str(CLIENT_ID)}
    with httpx.Client(
        base_url=server.base_url,
        timeout=TIMEOUT,
        headers=headers,
        auth=(USERNAME, PASSWORD),
        verify=TLS,
    ) as http:
        yield http


def confirmed_order(
    sandbox: Sandbox, api: httpx.Client, number: str = "FA-1", *, min_units: int = 1
) -> dict[str, Any]:
    """A new order of at least ``min_units`` units, confirmed through the API."""
    for _ in range(50):
        (order_id,) = sandbox.add_orders(1)
        lines = sandbox.order(order_id)["order_info"]["order_lines"]
        if sum(line["quantity"] for line in lines) >= min_units:
            break
    response = api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": number})
    response.raise_for_status()
    return sandbox.order(order_id)
