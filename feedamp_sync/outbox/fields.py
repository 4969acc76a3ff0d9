"""The fields of a seller's payload: pydantic models that refuse in the project's own words.

Each kind's module declares its payload as :class:`Shape` models built from the field types
below. A payload is checked completely before it is refused, so the seller sees every
mistake at once, each under its JSON path (``order_lines[0].fulfillments[1].quantity_shipped:
must be a positive integer, got 0``). Types are strict on purpose: ``"2"``, ``true`` and
``1.5`` are not quantities, and an unknown key is an error, because a misspelt optional field
(``tracking_nubmer``) would otherwise vanish silently. These messages are what sellers'
systems match on: pydantic finds the problems, the words are ours.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

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

Loc = tuple[str | int, ...]
"""Where a value is, as pydantic names it: ``("order_lines", 0, "sku")``."""


def shown(value: Any) -> str:
    """A value as the seller wrote it in JSON, shortened for a message."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= _SHOWN_MAX_CHARS else text[: _SHOWN_MAX_CHARS - 3] + "..."


def path(loc: Loc) -> str:
    """The JSON path of ``loc``: ``order_lines[0].sku``, or ``payload`` for the whole."""
    text = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in loc)
    return text.removeprefix(".") or "payload"


def refused(text: str) -> PydanticCustomError:
    """A validator's refusal, worded as the seller reads it."""
    return PydanticCustomError("problem", "{problem}", {"problem": text})


# -- the values ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refused(f"must be a non-empty string, got {shown(value)}")
    return _at_most(TEXT_MAX_CHARS, value)


def _trimmed_text(value: Any) -> str:
    return _text(value.strip() if isinstance(value, str) and value.strip() else value)


def _free_text(value: Any) -> str:
    if not isinstance(value, str):
        raise refused(f"must be a string, got {shown(value)}")
    return _at_most(FREE_TEXT_MAX_CHARS, value)


def _at_most(limit: int, value: str) -> str:
    if len(value) > limit:
        raise refused(f"must be at most {limit} characters, got {len(value)}")
    return value


def _url(value: Any) -> str:
    """A marketplace shows it to the buyer as a link: only web addresses."""
    url = _free_text(value)
    parts = urlsplit(url) if _HTTP_URL.match(url) else None
    if parts is None or not parts.netloc or any(c.isspace() for c in url):
        raise refused(f"must be an http:// or https:// URL, got {shown(url)}")
    return url


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise refused(f"must be a positive integer, got {shown(value)}")
    if value > QUANTITY_MAX:
        raise refused(f"must be at most {QUANTITY_MAX:,}, got {shown(value)}")
    return value


def _amount(value: Any) -> int | float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
        or value < 0
    ):
        raise refused(f"must be a non-negative number, got {shown(value)}")
    if value > AMOUNT_MAX or round(value, AMOUNT_DECIMALS) != value:
        raise refused(
            f"must be at most {AMOUNT_MAX:,} with at most {AMOUNT_DECIMALS} decimal places, "
            f"got {shown(value)}"
        )
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value not in ACTIVE_CURRENCIES:
        hint = (
            f' (did you mean "{value.upper()}"?)'
            if isinstance(value, str) and value.upper() in ACTIVE_CURRENCIES
            else ""
        )
        raise refused(
            f"must be an active ISO 4217 currency code such as USD, got {shown(value)}{hint}"
        )
    return value


def _shipped_date(value: Any) -> str:
    """An ISO 8601 date or date-time from a plausible year."""
    if not isinstance(value, str) or not (
        (_DATE.fullmatch(value) and _parses(date.fromisoformat, value))
        or (_DATE_TIME.fullmatch(value) and _parses(datetime.fromisoformat, value))
    ):
        raise refused(
            "must be an ISO 8601 date (2026-05-01) or date-time (2026-05-01T14:30:00Z), "
            f"got {shown(value)}"
        )
    # From this century, and not past next year: a typo such as 9999 would reach the buyer.
    latest = datetime.now(UTC).year + 1
    if not EARLIEST_YEAR <= int(value[:4]) <= latest:
        raise refused(f"must be a date from {EARLIEST_YEAR} to {latest}, got {shown(value)}")
    return value


def _sent_with_offset(shipped_date: str) -> str:
    """A date-time without a UTC offset is sent with ``+00:00`` (and the seller warned, see
    :func:`without_offset`), since FeedAMP's reading of such a time is undocumented (its
    return filters take such times as US Eastern)."""
    return shipped_date + "+00:00" if without_offset(shipped_date) else shipped_date


def without_offset(shipped_date: str) -> bool:
    """Whether a valid shipped date is a date-time without a UTC offset."""
    match = _DATE_TIME.fullmatch(shipped_date)
    return match is not None and match.group("offset") is None


def named_twice(items: Any, key: str) -> Iterator[tuple[int, int, str]]:
    """``(index, first index, value)`` for each object of ``items`` whose ``key``, a valid
    :data:`Text`, an earlier object already has."""
    first: dict[str, int] = {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        value = item.get(key) if isinstance(item, dict) else None
        if value is None or not _valid_text(value):
            continue
        if value in first:
            yield index, first[value], value
        else:
            first[value] = index


def _valid_text(value: Any) -> bool:
    try:
        _text(value)
    except PydanticCustomError:
        return False
    return True


def _full_refund(value: Any) -> Literal[True]:
    if value is not True:
        raise refused(f"must be true (only full refunds exist), got {shown(value)}")
    return value


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def one_of(allowed: Collection[str]) -> PlainValidator:
    """One of FeedAMP's exact strings (its enums are case- and spelling-exact)."""

    def check(value: Any) -> str:
        if value not in allowed:
            raise refused(f"must be one of {', '.join(sorted(allowed))}, got {shown(value)}")
        return str(value)

    return PlainValidator(check)


Text = Annotated[str, PlainValidator(_text)]
"""An identifier or number: a non-blank string of at most 128 characters."""
TrimmedText = Annotated[str, PlainValidator(_trimmed_text)]
"""A :data:`Text` whose surrounding whitespace is no part of it (a tracking number read from
a space-padded ``CHAR`` column): kept and sent without it."""
FreeText = Annotated[str, PlainValidator(_free_text)]
"""A note: any string (empty too) of at most 2,000 characters."""
Url = Annotated[str, PlainValidator(_url)]
"""An absolute http(s) URL of at most 2,000 characters."""
Quantity = Annotated[int, PlainValidator(_quantity)]
"""A whole number of units, from 1 to 1,000,000 (not ``true``, ``1.0`` or ``"1"``)."""
Amount = Annotated[int | float, PlainValidator(_amount)]
"""A non-negative number up to 1,000,000 with at most 4 decimal places."""
Currency = Annotated[str, PlainValidator(_currency)]
"""An active ISO 4217 code, exactly (``usd`` is refused with a hint)."""
ShippedDate = Annotated[str, PlainValidator(_shipped_date), PlainSerializer(_sent_with_offset)]
"""An ISO 8601 date or date-time, from 2000 to next year; sent with an offset."""
FullRefund = Annotated[Literal[True], PlainValidator(_full_refund)]
"""``true``: FeedAMP v1 refunds a return's lines only in full."""


# -- the objects -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A problem found in an object: where it is, what is wrong, and where it is listed
    (``listed_at``, when not at ``loc``: a check of the whole object lists its findings
    after the problems of the part they name)."""

    loc: Loc
    text: str
    listed_at: Loc | None = None


class Shape(BaseModel):
    """One JSON object of a seller's payload: strict types, no unknown field, nulls absent.

    Problems are listed as the object is read: unknown fields first (the likeliest mistake
    is a misspelt name), then each field in the order declared, a list's non-objects before
    its objects' own problems, then what :meth:`object_problems` finds across fields.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
    null_is_absent: ClassVar[bool] = True
    """A field given as null is treated as not given (``required``, or its default)."""

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(data, dict):
            raise _refusal(cls, [Problem((), f"must be an object, got {shown(data)}")])
        given = data
        if cls.null_is_absent and None in data.values():
            given = {k: v for k, v in data.items() if v is not None or k not in cls.model_fields}
        found: list[Problem] = []
        valid = None
        try:
            valid = handler(given)
        except ValidationError as error:
            found = [
                Problem(tuple(e["loc"]), problem_text(e, list(cls.model_fields)))
                for e in error.errors()
            ]
        found += cls.object_problems(given)
        if found:
            raise _refusal(cls, sorted(found, key=lambda p: _listing(cls, given, p)))
        return valid

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        """What is wrong across this object's fields, read from the object as given (so it is
        found even beside problems in the fields); none by default."""
        return []

    @classmethod
    def read(cls, payload: Mapping[str, Any]) -> Shape:
        """The payload as this kind's model; ValidationError (see :func:`problems`)."""
        return cls.model_validate(payload)

    @classmethod
    def valid_part(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of ``given`` that are valid, as they are sent, for comparing objects
        that may have mistakes of their own."""
        part = {}
        for name, value in given.items():
            if name in cls.model_fields and value is not None:
                adapter = _adapter(cls, name)
                try:
                    part[name] = adapter.dump_python(adapter.validate_python(value))
                except ValidationError:
                    continue
        return part

    def normalised(self) -> dict[str, Any]:
        """The payload as it is stored and sent: absent optional fields left out."""
        return self.model_dump(exclude_none=True)

    def warnings(self) -> Iterator[tuple[Loc, str]]:
        """Notes about an accepted payload, by place: this object's, then its fields'."""
        yield from self.notes()
        for name, value in self.__dict__.items():
            if isinstance(value, Shape):
                yield from (((name, *loc), text) for loc, text in value.warnings())
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, Shape):
                        yield from (((name, index, *loc), text) for loc, text in item.warnings())

    def notes(self) -> Iterator[tuple[Loc, str]]:
        """Warnings about this object itself (accepted as it is); none by default."""
        return iter(())


def problem_text(entry: Mapping[str, Any], fields: Sequence[str]) -> str:
    """A pydantic error entry (its ``type``, ``input``, ``ctx``) in the project's words;
    ``fields`` are the names the object at the entry's place may have."""
    match entry["type"]:
        case "problem":
            return str(entry["ctx"]["problem"])
        case "missing":
            return "required"
        case "extra_forbidden":
            return _unknown(str(entry["loc"][-1]), fields)
        case "list_type":
            return f"must be a list of objects, got {shown(entry['input'])}"
        case "too_short":
            return "must not be empty"
    return str(entry["msg"])


def problems(error: ValidationError) -> list[str]:
    """A refused payload's problems as the seller reads them, each under its JSON path."""
    return [f"{path(tuple(e['loc']))}: {e['msg']}" for e in error.errors()]


def _unknown(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f'unknown field (did you mean "{close[0]}"?)'
    return f"unknown field; allowed: {', '.join(allowed)}"


def _listing(shape: type[Shape], given: Mapping[str, Any], problem: Problem) -> tuple[Any, ...]:
    """Where a problem is listed among its object's: see :class:`Shape`."""
    loc = problem.loc if problem.listed_at is None else problem.listed_at
    if not loc:
        return ((2,),)
    if loc[0] not in shape.model_fields:
        return ((0,),)
    field = (1, list(shape.model_fields).index(str(loc[0])))
    if len(loc) == 1 or not isinstance(loc[1], int):
        return (field,)
    items = given.get(str(loc[0]))
    index = loc[1]
    not_object = (
        len(loc) == 2
        and isinstance(items, list)
        and index < len(items)
        and not isinstance(items[index], dict)
    )
    return (field, (0 if not_object else 1, index))


@functools.cache
def _adapter(shape: type[Shape], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(shape.model_fields[name].rebuild_annotation())


def _refusal(shape: type[Shape], found: list[Problem]) -> ValidationError:
    return ValidationError.from_exception_data(
        shape.__name__,
        [InitErrorDetails(type=refused(p.text), loc=p.loc, input=None) for p in found],
    )
