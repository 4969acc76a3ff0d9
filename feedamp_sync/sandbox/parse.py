"""Request bodies and query strings turned into checked values, or a 400 that names the field.

Only checks that need no stored data live here (types, enums, required fields); rules that
depend on the order or return (known lines, quantities, states, uniqueness) are the world's.
Messages name the offending field by its JSON path so a client developer can fix the payload
from the error alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.sandbox.timestamps import is_iso_date_or_datetime, parse_filter
from feedamp_sync.sandbox.vocab import (
    CANCELLATION_REASONS,
    CLOSED_RETURN_STATES,
    OPEN_RETURN_STATES,
    REFUND_REASONS,
    RETURN_STATES,
)
from feedamp_sync.sandbox.wire import JSON, Rejected

MIN_LIMIT: Final = 50
MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 100
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_REFUND_AMOUNTS: Final = (
    "item_refund",
    "item_tax_refund",
    "shipping_refund",
    "shipping_tax_refund",
    "discount_refund",
)


@dataclass(frozen=True)
class FulfillLine:
    """One line of a fulfill request, with its items in the request shape (known keys only)."""

    mp_line_number: str
    sku: str | None
    fulfillments: list[JSON]
    cancellations: list[JSON]


@dataclass(frozen=True)
class FulfillRequest:
    """A whole fulfill body: the complete replacement set of the order's fulfillments."""

    invoice_number: str | None
    lines: list[FulfillLine]


@dataclass(frozen=True)
class ReturnQuery:
    """The filters of a returns search; times are epoch milliseconds, bounds half-open."""

    states: frozenset[str] | None = None
    created_after: int | None = None
    created_before: int | None = None
    refreshed_after: int | None = None
    refreshed_before: int | None = None
    merchant_return_number: str | None = None
    marketplaces: frozenset[str] | None = None
    naive_timestamp: bool = False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _required_text(obj: JSON, key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Rejected(400, f"{where}{key} is required and must be a non-empty string")
    return value


def _optional_text(obj: JSON, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise Rejected(400, f"{where}{key} must be a string")
    return value


def _positive_int(obj: JSON, key: str, where: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise Rejected(400, f"{where}{key} is required and must be a positive integer")
    return int(value)


def _object_list(obj: JSON, key: str, where: str) -> list[JSON]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Rejected(400, f"{where}{key} must be a list of objects")
    return value


def confirm_number(body: JSON) -> str:
    """The seller's ``cp_order_number``: a non-empty string (uniqueness is the world's rule)."""
    return _required_text(body, "cp_order_number", "")


def fulfill_request(body: JSON) -> FulfillRequest:
    """The fulfill body; an empty ``order_lines`` is refused because it would erase everything."""
    invoice = _optional_text(body, "invoice_number", "")
    raw_lines = body.get("order_lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise Rejected(400, "order_lines is required and must be a non-empty list")
    lines: list[FulfillLine] = []
    for index, raw in enumerate(raw_lines):
        where = f"order_lines[{index}]."
        if not isinstance(raw, dict):
            raise Rejected(400, f"order_lines[{index}] must be an object")
        lines.append(
            FulfillLine(
                mp_line_number=_required_text(raw, "mp_line_number", where),
                sku=_optional_text(raw, "sku", where),
                fulfillments=[
                    _fulfillment(item, f"{where}fulfillments[{i}].")
                    for i, item in enumerate(_object_list(raw, "fulfillments", where))
                ],
                cancellations=[
                    _cancellation(item, f"{where}cancellations[{i}].")
                    for i, item in enumerate(_object_list(raw, "cancellations", where))
                ],
            )
        )
    return FulfillRequest(invoice_number=invoice, lines=lines)


def _fulfillment(item: JSON, where: str) -> JSON:
    shipped_date = _required_text(item, "shipped_date", where)
    if not is_iso_date_or_datetime(shipped_date):
        raise Rejected(400, f"{where}shipped_date must be an ISO 8601 date or date-time")
    shipment: JSON = {
        "quantity_shipped": _positive_int(item, "quantity_shipped", where),
        "shipped_date": shipped_date,
        "carrier": _required_text(item, "carrier", where),
        "tracking_number": _required_text(item, "tracking_number", where),
    }
    url = _optional_text(item, "tracking_url", where)
    if url is not None:
        shipment["tracking_url"] = url
    return shipment


def _cancellation(item: JSON, where: str) -> JSON:
    reason = item.get("cancellation_reason")
    if reason not in CANCELLATION_REASONS:
        allowed = ", ".join(sorted(CANCELLATION_REASONS))
        raise Rejected(400, f"{where}cancellation_reason must be one of: {allowed}")
    return {
        "quantity_cancelled": _positive_int(item, "quantity_cancelled", where),
        "cancellation_reason": reason,
    }


def refund_info(body: JSON) -> JSON:
    """The ``refund_info`` of a refund request, reduced to its documented keys."""
    info = body.get("refund_info")
    if not isinstance(info, dict):
        raise Rejected(400, "refund_info is required and must be an object")
    where = "refund_info."
    checked: JSON = {
        "cp_refund_number": _required_text(info, "cp_refund_number", where),
        "mp_line_number": _required_text(info, "mp_line_number", where),
    }
    reason = info.get("refund_reason")
    if reason not in REFUND_REASONS:
        allowed = ", ".join(sorted(REFUND_REASONS))
        raise Rejected(400, f"{where}refund_reason must be one of: {allowed}")
    checked["refund_reason"] = reason
    currency = info.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise Rejected(400, f"{where}currency is required and must be 3 upper-case letters")
    checked["currency"] = currency
    if info.get("refund_quantity") is not None:
        checked["refund_quantity"] = _positive_int(info, "refund_quantity", where)
    for key in _REFUND_AMOUNTS:
        value = info.get(key)
        if value is None:
            continue
        if not _is_number(value) or value < 0:
            raise Rejected(400, f"{where}{key} must be a non-negative number")
        checked[key] = value
    notes = _optional_text(info, "refund_notes", where)
    if notes is not None:
        checked["refund_notes"] = notes
    return checked


def merchant_return_number(body: JSON) -> str:
    """The seller's RMA number for an authorize: a non-empty string, unique across returns."""
    return _required_text(body, "merchant_return_number", "")


def refund_line_ids(body: JSON) -> list[str]:
    """The return line ids of a return refund; only full refunds exist in v1."""
    lines = body.get("merchant_refund_lines")
    if not isinstance(lines, list) or not lines:
        raise Rejected(400, "merchant_refund_lines is required and must be a non-empty list")
    ids: list[str] = []
    for index, line in enumerate(lines):
        where = f"merchant_refund_lines[{index}]."
        if not isinstance(line, dict):
            raise Rejected(400, f"merchant_refund_lines[{index}] must be an object")
        line_id = _required_text(line, "feedamp_return_line_id", where)
        if line.get("merchant_full_refund") is not True:
            raise Rejected(400, f"{where}merchant_full_refund must be true")
        if line_id in ids:
            raise Rejected(400, f"{where}feedamp_return_line_id {line_id} is named twice")
        ids.append(line_id)
    return ids


def limit(query: Mapping[str, str]) -> int:
    """``limit`` in 50..200 (default 100); the docs type it as a number, so 100.0 is accepted."""
    raw = query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value.is_integer() or not MIN_LIMIT <= value <= MAX_LIMIT:
        raise Rejected(400, f"limit must be an integer from {MIN_LIMIT} to {MAX_LIMIT}")
    return int(value)


def flag(query: Mapping[str, str], name: str) -> bool | None:
    """A boolean query parameter (true/false/1/0), or None when absent."""
    raw = query.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise Rejected(400, f"{name} must be true or false")


def _comma_set(raw: str, name: str) -> frozenset[str]:
    values = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if not values:
        raise Rejected(400, f"{name} must not be empty")
    return values


def return_query(query: Mapping[str, str]) -> ReturnQuery:
    """The returns search filters; ``state`` overrides ``open`` as the docs say."""
    states: frozenset[str] | None = None
    if "state" in query:
        states = _comma_set(query["state"], "state")
        unknown = states - set(RETURN_STATES)
        if unknown:
            raise Rejected(400, f"unknown return state(s): {', '.join(sorted(unknown))}")
    else:
        is_open = flag(query, "open")
        if is_open is not None:
            states = OPEN_RETURN_STATES if is_open else CLOSED_RETURN_STATES
    times: dict[str, int | None] = {}
    naive = False
    for name in ("created-after", "created-before", "refreshed-after", "refreshed-before"):
        raw = query.get(name)
        if raw is None:
            times[name] = None
            continue
        try:
            times[name], was_naive = parse_filter(raw)
        except ValueError as exc:
            raise Rejected(400, f"{name} must be an ISO 8601 date-time") from exc
        naive = naive or was_naive
    marketplaces = query.get("marketplaces")
    return ReturnQuery(
        states=states,
        created_after=times["created-after"],
        created_before=times["created-before"],
        refreshed_after=times["refreshed-after"],
        refreshed_before=times["refreshed-before"],
        merchant_return_number=query.get("merchant-return-number"),
        marketplaces=None if marketplaces is None else _comma_set(marketplaces, "marketplaces"),
        naive_timestamp=naive,
    )
