"""Query parameters as FeedAMP reads them: ``true``/``false``, UTC with an explicit offset.

Search returns assumes US Eastern time for a timestamp without an offset, so a naive datetime
is refused here rather than sent and silently shifted by four or five hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def flag(value: bool) -> str:
    return "true" if value else "false"


def utc_timestamp(name: str, value: datetime) -> str:
    """``2026-01-02T03:04:05+00:00``; sub-seconds are dropped, which widens an "after" filter."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def new_orders_params(
    *, limit: int, marketplace_fulfilled: bool | None, include_raw: bool = False
) -> dict[str, str]:
    params = {"limit": str(limit)}
    if marketplace_fulfilled is not None:
        params["marketplace_fulfilled"] = flag(marketplace_fulfilled)
    if include_raw:
        params["include_raw"] = flag(True)
    return params


def returns_params(
    *,
    limit: int,
    open: bool | None,
    states: Sequence[str] | None,
    refreshed_after: datetime | None,
    created_after: datetime | None,
    merchant_return_number: str | None,
) -> dict[str, str]:
    """Search-returns filters; ``states`` go comma-delimited in one ``state`` parameter."""
    params = {"limit": str(limit)}
    if open is not None:
        params["open"] = flag(open)
    if states is not None:
        if isinstance(states, str) or not states:
            raise ValueError("states must be a non-empty sequence of state names")
        params["state"] = ",".join(states)
    if refreshed_after is not None:
        params["refreshed-after"] = utc_timestamp("refreshed_after", refreshed_after)
    if created_after is not None:
        params["created-after"] = utc_timestamp("created_after", created_after)
    if merchant_return_number is not None:
        params["merchant-return-number"] = merchant_return_number
    return params
