"""The counters fed by the seams, on the app's own registry."""

from __future__ import annotations

from importlib.metadata import version

from prometheus_client import REGISTRY

from feedamp_sync.jobs import OrdersPulled
from feedamp_sync.ops.metrics import Metrics
from feedamp_sync.outbox.engine import DrainSummary


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_the_build_info_names_the_running_release() -> None:
    """``feedamp_sync_build_info{version=...}`` is 1, labelled with the installed version."""
    metrics = Metrics()
    release = version("feedamp-sync")
    assert sample(metrics, "feedamp_sync_build_info", version=release) == 1
    text = metrics.render()[0].decode()
    assert f'feedamp_sync_build_info{{version="{release}"}} 1.0' in text.splitlines()


def test_requests_are_counted_by_endpoint_and_status() -> None:
    """Each attempt is one count, with 'none' for an attempt without answer."""
    metrics = Metrics()
    metrics.observe_request(account="main", endpoint="new_orders", status=200, seconds=0.1)
    metrics.observe_request(account="main", endpoint="new_orders", status=None, seconds=2)
    total = "feedamp_sync_api_requests_total"
    labels = {"account": "main", "endpoint": "new_orders"}
    assert sample(metrics, total, **labels, status="200") == 1
    assert sample(metrics, total, **labels, status="none") == 1


def test_request_latency_lands_in_the_histogram() -> None:
    """A 0.3 s attempt is under the 0.5 s bucket and over the 0.25 s one."""
    metrics = Metrics()
    metrics.observe_request(account="main", endpoint="confirm", status=200, seconds=0.3)
    name = "feedamp_sync_api_request_duration_seconds_bucket"
    labels = {"account": "main", "endpoint": "confirm"}
    assert (
        sample(metrics, name, **labels, le="0.25"),
        sample(metrics, name, **labels, le="0.5"),
    ) == (
        0,
        1,
    )


def test_an_accepted_confirm_is_a_confirmation() -> None:
    """Only a 2xx to confirm counts; a 409 does not."""
    metrics = Metrics()
    metrics.observe_request(account="main", endpoint="confirm", status=200, seconds=0.1)
    metrics.observe_request(account="main", endpoint="confirm", status=409, seconds=0.1)
    assert sample(metrics, "feedamp_sync_confirmations_total", account="main") == 1


def test_a_fetched_token_is_a_renewal() -> None:
    """A 2xx to get_token counts; a refused one does not."""
    metrics = Metrics()
    metrics.observe_request(account="main", endpoint="get_token", status=200, seconds=0.1)
    metrics.observe_request(account="main", endpoint="get_token", status=401, seconds=0.1)
    assert sample(metrics, "feedamp_sync_token_renewals_total", account="main") == 1


def test_new_orders_are_counted_as_ingested() -> None:
    """The orders tick's summary adds its new orders, not the ones seen again."""
    metrics = Metrics()
    metrics.orders_pulled("main", OrdersPulled(pages=2, orders=300, new=120))
    assert sample(metrics, "feedamp_sync_orders_ingested_total", account="main") == 120


def test_drain_outcomes_are_counted() -> None:
    """The drain summary adds each outcome under its own label."""
    metrics = Metrics()
    metrics.outbox_drained(DrainSummary(sent=5, retried=2, dead=1))
    outcomes = {
        outcome: sample(metrics, "feedamp_sync_outbox_results_total", outcome=outcome)
        for outcome in ("sent", "retried", "dead")
    }
    assert outcomes == {"sent": 5, "retried": 2, "dead": 1}


def test_each_app_has_its_own_registry() -> None:
    """Two apps in one process (tests, run --once) never share or clash on metrics."""
    first, second = Metrics(), Metrics()
    first.orders_pulled("main", OrdersPulled(new=3))
    assert sample(second, "feedamp_sync_orders_ingested_total", account="main") is None
    assert (
        REGISTRY.get_sample_value("feedamp_sync_orders_ingested_total", {"account": "main"}) is None
    )


def test_render_is_prometheus_text() -> None:
    """The scrape body is the text exposition format with its content type."""
    body, content_type = Metrics().render()
    assert content_type.startswith("text/plain; version=0.0.4")
    assert b"# TYPE feedamp_sync_api_requests_total counter" in body


SERIES_PER_ACCOUNT = 70
"""An account that takes tokens, lists new orders and returns and confirms: a counter (and
its ``_created``) for its new orders, confirmations and tokens, one per endpoint and status
for requests, and 14 (11 buckets, sum, count, created) per endpoint for request durations.
The README's metrics section says so."""


def account_series(metrics: Metrics) -> dict[str, int]:
    """How many series each account label value has in a scrape."""
    counts: dict[str, int] = {}
    for family in metrics.registry.collect():
        for series in family.samples:
            if "account" in series.labels:
                account = series.labels["account"]
                counts[account] = counts.get(account, 0) + 1
    return counts


def busy(metrics: Metrics, account: str, orders: int) -> None:
    """What an account's passes and confirms report for ``orders`` new orders."""
    metrics.observe_request(account=account, endpoint="get_token", status=200, seconds=0.1)
    metrics.observe_request(account=account, endpoint="search_returns", status=200, seconds=0.1)
    metrics.observe_request(account=account, endpoint="new_orders", status=200, seconds=0.2)
    metrics.orders_pulled(account, OrdersPulled(pages=1, orders=orders, new=orders))
    for _ in range(orders):
        metrics.observe_request(account=account, endpoint="confirm", status=200, seconds=0.05)
    metrics.outbox_drained(DrainSummary(sent=orders))


def test_an_accounts_series_do_not_grow_with_its_orders_or_messages() -> None:
    """Labels carry the account, endpoint and status only: five orders or five hundred, an
    account has the same series, so 200 accounts stay readable."""
    metrics = Metrics()
    busy(metrics, "small", 5)
    busy(metrics, "large", 500)
    assert account_series(metrics) == {"small": SERIES_PER_ACCOUNT, "large": SERIES_PER_ACCOUNT}
