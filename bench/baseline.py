"""The yardstick: a bare httpx client making the daemon's requests, with no database.

``python -m bench.baseline confirm``: list every page of new orders (one request at a time,
following the cursor, as the daemon does), then confirm each order, ``--concurrency``
requests at once. ``python -m bench.baseline fulfill --payloads FILE``: for each fulfillment
of FILE (``[[order_id, body], ...]``), GET the order and then PUT, at that concurrency: the
procedure FeedAMP documents for adding fulfillments to those it holds, and what the daemon
does. Both send what the daemon sends (Basic auth plus the ``token`` and ``client`` headers,
JSON bodies) over one pooled client,
and print one JSON line: ``requests``, ``seconds`` (first request to last answer), ``failed``.
Nothing is retried and nothing is stored: this is the ceiling the sandbox allows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
import httpx

from bench.sandbox_process import CLIENT_ID, PASSWORD, USERNAME

NEW_ORDERS = "/api/v1/orders/new"


def _client(base_url: str, concurrency: int) -> httpx.Client:
    return httpx.Client(
        base_url=base_url,
        auth=httpx.BasicAuth(USERNAME, PASSWORD),
        headers={"Accept": "application/json"},
        timeout=30.0,
        limits=httpx.Limits(max_connections=max(concurrency, 10)),
    )


def _authorize(client: httpx.Client) -> None:
    response = client.get("/api/v1/get_token")
    response.raise_for_status()
    client.headers.update({"token": response.json()["token"], "client": str(CLIENT_ID)})


def _list_new_orders(client: httpx.Client, page_size: int) -> tuple[list[str], int]:
    """Every listed order id, and the number of list requests it took."""
    ids: list[str] = []
    cursor: str | None = None
    requests = 0
    while True:
        params = {"limit": str(page_size)} | ({"cursor": cursor} if cursor else {})
        response = client.get(NEW_ORDERS, params=params)
        response.raise_for_status()
        requests += 1
        content = response.json()
        ids += [order["id"] for order in content["orders"]]
        cursor = content.get("next_cursor")
        if not cursor or not content["orders"]:
            return ids, requests


def _in_parallel(concurrency: int, calls: Iterable[Callable[[], int]]) -> tuple[int, int]:
    """Run every call on ``concurrency`` threads; returns (requests, failures)."""
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = list(pool.map(lambda call: call(), calls))
    return len(statuses), sum(1 for status in statuses if status >= 300)


def _report(started: float, requests: int, failed: int) -> None:
    seconds = time.monotonic() - started
    print(json.dumps({"requests": requests, "seconds": round(seconds, 4), "failed": failed}))


@click.group()
def main() -> None:
    """A bare httpx client against the sandbox."""


@main.command()
@click.option("--base-url", required=True)
@click.option("--concurrency", type=click.IntRange(min=1), required=True)
@click.option("--page-size", type=click.IntRange(50, 200), default=200)
def confirm(base_url: str, concurrency: int, page_size: int) -> None:
    """List every new order, then confirm each one."""
    with _client(base_url, concurrency) as client:
        started = time.monotonic()
        _authorize(client)
        ids, listed = _list_new_orders(client, page_size)

        def confirming(order_id: str) -> Callable[[], int]:
            body = {"cp_order_number": f"BL{int(order_id):08d}"}
            path = f"/api/v1/orders/{order_id}/confirm"
            return lambda: client.put(path, json=body).status_code

        confirmed, failed = _in_parallel(concurrency, [confirming(i) for i in ids])
        _report(started, 1 + listed + confirmed, failed)


@main.command()
@click.option("--base-url", required=True)
@click.option("--concurrency", type=click.IntRange(min=1), required=True)
@click.option("--payloads", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fulfill(base_url: str, concurrency: int, payloads: Path) -> None:
    """Read each order, then PUT its fulfillment from the payloads file."""
    bodies: list[tuple[str, Any]] = [tuple(item) for item in json.loads(payloads.read_text())]
    with _client(base_url, concurrency) as client:
        started = time.monotonic()
        _authorize(client)

        def fulfilling(order_id: str, body: Any) -> Callable[[], int]:
            def read_then_put() -> int:
                read = client.get(f"/api/v1/orders/{order_id}")
                if read.status_code >= 300:
                    return read.status_code
                read.json()  # what FeedAMP holds, which a real client merges with its own
                return client.put(f"/api/v1/orders/{order_id}/fulfill", json=body).status_code

            return read_then_put

        sent, failed = _in_parallel(concurrency, [fulfilling(i, b) for i, b in bodies])
        _report(started, 1 + 2 * sent, failed)


if __name__ == "__main__":
    main()
