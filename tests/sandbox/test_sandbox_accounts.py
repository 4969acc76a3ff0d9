"""Several client accounts on one sandbox server, each under ``/accounts/<name>``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from feedamp_sync.sandbox import Sandbox, SandboxServer
from feedamp_sync.sandbox.tenants import generated
from tests.sandbox.conftest import PASSWORD, TIMEOUT, TLS, USERNAME


@pytest.fixture
def accounts_server() -> Iterator[SandboxServer]:
    accounts = generated(2, username=USERNAME, password=PASSWORD, seed=5)
    accounts["shop-000"].add_orders(3)
    accounts["shop-001"].add_orders(2)
    with SandboxServer(Sandbox(username=USERNAME, password=PASSWORD), accounts=accounts) as server:
        yield server


def new_orders(server: SandboxServer, name: str, client_id: int) -> list[str]:
    """The new orders' ids an account's own client lists at its base URL."""
    with httpx.Client(
        base_url=server.account_url(name),
        auth=(USERNAME, PASSWORD),
        timeout=TIMEOUT,
        verify=TLS,
    ) as client:
        token = client.get("/api/v1/get_token").json()["token"]
        answer = client.get(
            "/api/v1/orders/new", headers={"token": token, "client": str(client_id)}
        )
        answer.raise_for_status()
        return [order["id"] for order in answer.json()["orders"]]


def test_each_account_lists_its_own_orders(accounts_server: SandboxServer) -> None:
    """Two accounts, two worlds: their orders and ids are apart."""
    first = new_orders(accounts_server, "shop-000", 1)
    second = new_orders(accounts_server, "shop-001", 2)
    assert (len(first), len(second)) == (3, 2)
    assert set(first).isdisjoint(second)


def test_an_account_refuses_another_accounts_client_id(accounts_server: SandboxServer) -> None:
    """Each account has its own client id: the other's is a 403, as in FeedAMP."""
    with pytest.raises(httpx.HTTPStatusError) as refused:
        new_orders(accounts_server, "shop-001", 1)
    assert refused.value.response.status_code == 403


def test_an_unknown_account_is_not_found(accounts_server: SandboxServer) -> None:
    """A path under /accounts/ that names no account is a 404."""
    answer = httpx.get(f"{accounts_server.account_url('shop-999')}/api/v1/get_token", timeout=5)
    assert answer.status_code == 404


def test_an_accounts_control_endpoints_are_under_its_prefix(
    accounts_server: SandboxServer,
) -> None:
    """``/accounts/<name>/_sandbox/summary`` is that account's."""
    answer = httpx.get(f"{accounts_server.account_url('shop-001')}/_sandbox/summary", timeout=5)
    assert answer.json()["orders"]["total"] == 2
