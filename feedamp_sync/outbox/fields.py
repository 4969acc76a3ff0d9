"""Reading one JSON object of a seller's payload, field by field, noting every problem.

A payload is checked completely before it is refused, so the seller sees every mistake at
once, each under its JSON path (``order_lines[0].fulfillments[1].quantity_shipped: must be a
positive integer, got 0``). Types are strict on purpose: ``"2"``, ``true`` and ``1.5`` are not
quantities, and an unknown key is an error, because a misspelt optional field
(``tracking_nubmer``) would otherwise vanish silently.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from feedamp_sync.outbox.currencies import ACTIVE_CURRENCIES

TEXT_MAX_CHARS: Final = 128
"""Longest identifier or number we accept; the tables' indexed text columns hold 128."""
FREE_TEXT_MAX_CHARS: Final = 2_000
"""Longest note or URL accepted."""
QUANTITY_MAX: Final = 1_000_000
"""Most units one shipment, cancellation or refund may name."""
AMOUNT_MAX: Final = 1_000_000
"""Largest amount accepted in a refund field (in the currency's units)."""
AMOUNT_DECIMALS: Final = 4
"""Decimal places an amount may have (what the money columns keep)."""
EARLIEST_YEAR: Final = 2000

_SHOWN_MAX_CHARS: Final = 60
_HTTP_URL: Final = re.compile(r"https?://", re.IGNORECASE)
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?P<offset>Z|[+-]\d{2}:\d{2})?"
)


def shown(value: Any) -> str:
    """A value as the seller wrote it in JSON, shortened for a message."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= _SHOWN_MAX_CHARS else text[: _SHOWN_MAX_CHARS - 3] + "..."


def join(path: str, key: str | int) -> str:
    """The JSON path of ``key`` below ``path``: ``a.b``, ``a[0]``, or ``b`` at the top."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Report:
    """Problems (the payload is refused) and warnings (it is accepted, with a note)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def problem(self, path: str, text: str) -> None:
        self.problems.append(f"{path or 'payload'}: {text}")

    def warn(self, path: str, text: str) -> None:
        self.warnings.append(f"{path or 'payload'}: {text}")


class Fields:
    """The fields of one JSON object at ``path``; unknown keys are reported at once."""

    def __init__(
        self, report: Report, obj: Mapping[str, Any], path: str, allowed: Sequence[str]
    ) -> None:
        self.report = report
        self.path = path
        self._obj = obj
        for key in obj:
            if key not in allowed:
                report.problem(join(path, key), _unknown(key, allowed))

    def _value(self, key: str, required: bool) -> Any:
        value = self._obj.get(key)
        if value is None and required:
            self.report.problem(join(self.path, key), "required")
        return value

    def text(self, key: str, *, required: bool) -> str | None:
        """A non-empty string of at most 128 characters."""
        value = self._value(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.report.problem(
                join(self.path, key), f"must be a non-empty string, got {shown(value)}"
            )
            return None
        if len(value) > TEXT_MAX_CHARS:
            self.report.problem(
                join(self.path, key),
                f"must be at most {TEXT_MAX_CHARS} characters, got {len(value)}",
            )
            return None
        return value

    def free_text(self, key: str) -> str | None:
        """An optional string (notes) of at most 2,000 characters; empty is allowed."""
        value = self._value(key, required=False)
        if value is not None and not isinstance(value, str):
            self.report.problem(join(self.path, key), f"must be a string, got {shown(value)}")
            return None
        if value is not None and len(value) > FREE_TEXT_MAX_CHARS:
            self.report.problem(
                join(self.path, key),
                f"must be at most {FREE_TEXT_MAX_CHARS} characters, got {len(value)}",
            )
            return None
        return value

    def url(self, key: str) -> str | None:
        """An optional absolute http(s) URL: a marketplace shows it to the buyer as a link."""
        value = self.free_text(key)
        if value is None:
            return None
        parts = urlsplit(value) if _HTTP_URL.match(value) else None
        if parts is None or not parts.netloc or any(c.isspace() for c in value):
            self.report.problem(
                join(self.path, key), f"must be an http:// or https:// URL, got {shown(value)}"
            )
            return None
        return value

    def positive_int(self, key: str, *, required: bool) -> int | None:
        """A whole number of units, from 1 to 1,000,000."""
        value = self._value(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.report.problem(
                join(self.path, key), f"must be a positive integer, got {shown(value)}"
            )
            return None
        if value > QUANTITY_MAX:
            self.report.problem(
                join(self.path, key), f"must be at most {QUANTITY_MAX:,}, got {shown(value)}"
            )
            return None
        return value

    def amount(self, key: str) -> float | int | None:
        """An optional non-negative number up to 1,000,000 with at most 4 decimal places."""
        value = self._value(key, required=False)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not math.isfinite(value))
            or value < 0
        ):
            self.report.problem(
                join(self.path, key), f"must be a non-negative number, got {shown(value)}"
            )
            return None
        if value > AMOUNT_MAX or round(value, AMOUNT_DECIMALS) != value:
            self.report.problem(
                join(self.path, key),
                f"must be at most {AMOUNT_MAX:,} with at most {AMOUNT_DECIMALS} decimal places, "
                f"got {shown(value)}",
            )
            return None
        return value

    def choice(self, key: str, allowed: Collection[str], *, required: bool) -> str | None:
        value = self._value(key, required)
        if value is None:
            return None
        if value not in allowed:
            self.report.problem(
                join(self.path, key),
                f"must be one of {', '.join(sorted(allowed))}, got {shown(value)}",
            )
            return None
        return str(value)

    def currency(self, key: str) -> str | None:
        value = self._value(key, required=True)
        if value is None:
            return None
        if not isinstance(value, str) or value not in ACTIVE_CURRENCIES:
            hint = (
                f' (did you mean "{value.upper()}"?)'
                if isinstance(value, str) and value.upper() in ACTIVE_CURRENCIES
                else ""
            )
            self.report.problem(
                join(self.path, key),
                f"must be an active ISO 4217 currency code such as USD, got {shown(value)}{hint}",
            )
            return None
        return value

    def shipped_date(self, key: str) -> str | None:
        """An ISO 8601 date or date-time; a date-time without an offset is taken as UTC.

        Returns the value to send: unchanged, or with ``+00:00`` added (and a warning), since
        FeedAMP's reading of a time without an offset is undocumented (its return filters take
        such times as US Eastern).
        """
        value = self._value(key, required=True)
        if value is None:
            return None
        path = join(self.path, key)
        problem = (
            "must be an ISO 8601 date (2026-05-01) or date-time (2026-05-01T14:30:00Z), "
            f"got {shown(value)}"
        )
        if not isinstance(value, str):
            self.report.problem(path, problem)
            return None
        match = _DATE_TIME.fullmatch(value)
        if _DATE.fullmatch(value) and _parses(date.fromisoformat, value):
            return value if self._plausible_year(path, value) else None
        if match is None or not _parses(datetime.fromisoformat, value):
            self.report.problem(path, problem)
            return None
        if not self._plausible_year(path, value):
            return None
        if match.group("offset") is None:
            self.report.warn(path, f"{shown(value)} has no UTC offset; taken as UTC")
            return value + "+00:00"
        return value

    def _plausible_year(self, path: str, value: str) -> bool:
        """A shipment from this century, and not from past next year (a typo such as 9999
        would be shown to the buyer)."""
        latest = datetime.now(UTC).year + 1
        if EARLIEST_YEAR <= int(value[:4]) <= latest:
            return True
        self.report.problem(
            path, f"must be a date from {EARLIEST_YEAR} to {latest}, got {shown(value)}"
        )
        return False

    def objects(self, key: str, *, required: bool) -> list[tuple[str, Mapping[str, Any]]]:
        """The objects of a list with their paths; null or absent is an empty list."""
        value = self._value(key, required)
        path = join(self.path, key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.report.problem(path, f"must be a list of objects, got {shown(value)}")
            return []
        if required and not value:
            self.report.problem(path, "must not be empty")
        found: list[tuple[str, Mapping[str, Any]]] = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                found.append((join(path, index), item))
            else:
                self.report.problem(join(path, index), f"must be an object, got {shown(item)}")
        return found

    def true(self, key: str) -> bool:
        """A required flag whose only allowed value is ``true``."""
        value = self._value(key, required=True)
        if value is not None and value is not True:
            self.report.problem(
                join(self.path, key), f"must be true (only full refunds exist), got {shown(value)}"
            )
        return value is True


def top_object(report: Report, payload: Any) -> Mapping[str, Any] | None:
    """The payload itself, which must be a JSON object."""
    if not isinstance(payload, dict):
        report.problem("", f"must be a JSON object, got {shown(payload)}")
        return None
    return payload


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _unknown(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f'unknown field (did you mean "{close[0]}"?)'
    return f"unknown field; allowed: {', '.join(allowed)}"
