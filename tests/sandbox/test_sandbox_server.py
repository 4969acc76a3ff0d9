"""The server: ledger, control endpoints, keep-alive, concurrency and prompt shutdown."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from feedamp_sync.sandbox import Faults, Sandbox, SandboxServer

from .conftest import TIMEOUT, TLS, fetch_token, wait_for


def test_ledger_records_every_request_in_order(sandbox: Sandbox, api: httpx.Client) -> None:
    """Each request gets an entry with seq, method, path, endpoint, status and effect."""
    (order_id,) = sandbox.add_orders(1)
    api.get("/api/v1/orders/new", params={"limit": 50})
    api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": "FA-1"})
    entries = sandbox.ledger()
    assert [(e.method, e.endpoint, e.status) for e in entries] == [
        ("GET", "get_token", 200),
        ("GET", "new_orders", 200),
        ("PUT", "confirm", 200),
    ]
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert (entries[1].path, entries[1].query) == ("/api/v1/orders/new", "limit=50")
    assert entries[2].effect == {"kind": "confirm", "order_id": order_id, "cp_order_number": "FA-1"}


def test_ledger_entry_times_are_arrival_times(sandbox: Sandbox, api: httpx.Client) -> None:
    """``at`` is the wall-clock time the request arrived."""
    before = time.time()
    api.get("/api/v1/orders/new")
    assert before <= sandbox.ledger("new_orders")[0].at <= time.time()


def test_unknown_path_is_404_under_endpoint_unknown(sandbox: Sandbox, api: httpx.Client) -> None:
    """A path outside the API is a 404 recorded as endpoint "unknown"."""
    assert api.get("/api/v1/nothing").status_code == 404
    assert sandbox.ledger()[-1].endpoint == "unknown"


def test_known_path_with_wrong_method_is_405(api: httpx.Client) -> None:
    """DELETE on an order path is a 405."""
    assert api.delete("/api/v1/orders/1").status_code == 405


def test_malformed_json_body_is_400(sandbox: Sandbox, api: httpx.Client) -> None:
    """A body that is not JSON is a 400 with an error message."""
    (order_id,) = sandbox.add_orders(1)
    response = api.put(f"/api/v1/orders/{order_id}/confirm", content=b"{nope")
    assert (response.status_code, "error" in response.json()) == (400, True)


def test_keep_alive_serves_several_requests_on_one_connection(
    sandbox: Sandbox, server: SandboxServer, client: httpx.Client
) -> None:
    """HTTP/1.1 responses carry Content-Length, so one connection serves many requests."""
    token = fetch_token(client)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        sockets = []
        for _ in range(3):
            connection.request("GET", "/api/v1/orders/new", headers={"token": token, "client": "1"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert len(set(map(id, sockets))) == 1


def test_concurrent_confirms_each_take_effect_once(sandbox: Sandbox, api: httpx.Client) -> None:
    """300 confirms over 16 threads all succeed and each order is confirmed exactly once."""
    ids = sandbox.add_orders(300)

    def confirm(order_id: str) -> int:
        body = {"cp_order_number": f"FA-{order_id}"}
        return api.put(f"/api/v1/orders/{order_id}/confirm", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(confirm, ids))
    assert set(statuses) == {200}
    assert sorted(e["order_id"] for e in sandbox.effects("confirm")) == sorted(ids)


def test_close_is_prompt_with_idle_connections_and_slow_requests(sandbox: Sandbox) -> None:
    """Leaving the with-block takes under 2 s despite keep-alive and a 30 s slow request."""
    (order_id,) = sandbox.add_orders(1)
    server = SandboxServer(sandbox).start()
    client = httpx.Client(base_url=server.base_url, timeout=TIMEOUT, verify=TLS)
    headers = {"token": fetch_token(client), "client": "1"}
    sandbox.set_faults(Faults(slow=1.0, slow_seconds=30.0))
    outcome: list[BaseException] = []

    def slow_confirm() -> None:
        try:
            client.put(
                f"/api/v1/orders/{order_id}/confirm",
                json={"cp_order_number": "FA-1"},
                headers=headers,
            )
        except httpx.TransportError as exc:
            outcome.append(exc)

    caller = threading.Thread(target=slow_confirm)
    caller.start()
    assert wait_for(lambda: sandbox.requests_in_progress() == 1)
    started = time.monotonic()
    server.close()
    elapsed = time.monotonic() - started
    caller.join(TIMEOUT)
    client.close()
    assert elapsed < 2.0
    assert len(outcome) == 1
    assert sandbox.effects() == []


def test_control_adds_orders(sandbox: Sandbox, client: httpx.Client) -> None:
    """POST /_sandbox/orders generates that many new orders and returns their ids."""
    response = client.post("/_sandbox/orders", json={"count": 4})
    assert response.status_code == 201
    assert response.json()["ids"] == sandbox.unconfirmed_orders()


def test_control_adds_returns_in_given_states(sandbox: Sandbox, client: httpx.Client) -> None:
    """POST /_sandbox/returns generates returns in the requested states."""
    response = client.post("/_sandbox/returns", json={"count": 2, "states": ["Pending Refund"]})
    states = {sandbox.return_(i)["state"] for i in response.json()["ids"]}
    assert (response.status_code, states) == (201, {"Pending Refund"})


def test_control_sets_a_return_state(sandbox: Sandbox, client: httpx.Client) -> None:
    """PUT /_sandbox/returns/{id}/state moves the return as the marketplace would."""
    (return_id,) = sandbox.add_returns(1, states=["Pending Shipping"])
    response = client.put(f"/_sandbox/returns/{return_id}/state", json={"state": "Pending Refund"})
    assert response.json()["return"]["state"] == "Pending Refund"
    assert sandbox.return_(return_id)["state"] == "Pending Refund"


def test_control_replaces_faults(sandbox: Sandbox, client: httpx.Client) -> None:
    """PUT /_sandbox/faults replaces the configuration; GET shows it."""
    sandbox.set_faults(Faults(drop=0.5))
    client.put("/_sandbox/faults", json={"error_5xx": 0.25, "endpoints": ["confirm"]})
    shown = client.get("/_sandbox/faults").json()
    assert (shown["error_5xx"], shown["drop"], shown["endpoints"]) == (0.25, 0.0, ["confirm"])
    assert sandbox.faults.error_5xx == 0.25


def test_control_refuses_invalid_faults(client: httpx.Client) -> None:
    """An unknown field or a bad probability is a 400."""
    assert client.put("/_sandbox/faults", json={"chaos": 1}).status_code == 400
    assert client.put("/_sandbox/faults", json={"drop": 2}).status_code == 400


def test_control_reads_ledger_and_effects(sandbox: Sandbox, api: httpx.Client) -> None:
    """GET /_sandbox/ledger?endpoint= and /_sandbox/effects?kind= mirror the Python API."""
    (order_id,) = sandbox.add_orders(1)
    api.put(f"/api/v1/orders/{order_id}/confirm", json={"cp_order_number": "FA-1"})
    ledger = api.get("/_sandbox/ledger", params={"endpoint": "confirm"}).json()
    effects = api.get("/_sandbox/effects", params={"kind": "confirm"}).json()
    assert [entry["status"] for entry in ledger] == [200]
    assert effects == sandbox.effects("confirm")


def test_control_requests_are_not_in_the_ledger(sandbox: Sandbox, client: httpx.Client) -> None:
    """Control traffic is not API traffic: the ledger stays empty."""
    client.get("/_sandbox/summary")
    assert sandbox.ledger() == []


def test_control_summary_counts_the_world(sandbox: Sandbox, api: httpx.Client) -> None:
    """GET /_sandbox/summary counts orders, returns, requests and effects."""
    order_ids = sandbox.add_orders(3)
    api.put(f"/api/v1/orders/{order_ids[0]}/confirm", json={"cp_order_number": "FA-1"})
    summary = api.get("/_sandbox/summary").json()
    assert (summary["orders"]["unconfirmed"], summary["orders"]["confirmed"]) == (2, 1)
    assert summary["ledger"]["effects"] == {"confirm": 1}
