"""Tolerant reading of FeedAMP response bodies: pure functions over bytes, no HTTP.

The published samples disagree with each other in places (GET order wraps its order in an
array, confirm in an object; the fulfill response is documented both ways), and FeedAMP adds
fields without notice. So every reader accepts each documented shape, keeps unknown fields
untouched (the whole object is stored), and refuses only what it cannot use, with an
:class:`ApiResponseInvalid` that names the endpoint and the problem. No message ever quotes a
body: a ``get_token`` body holds a token, and other bodies hold customers' personal data.
"""

from __future__ import annotations

import json
from typing import Any, Final

from feedamp_sync.errors import ApiResponseInvalid
from feedamp_sync.feedamp.nesting import read_by_item

ERROR_MESSAGE_MAX_CHARS: Final = 300
_ERROR_KEYS: Final = ("error", "message", "errors")


def _decode(endpoint: str, content: bytes) -> Any:
    try:
        return _loads(content)
    except RecursionError:
        raise _too_deep(endpoint, content) from None
    except ValueError:
        raise _not_json(endpoint, content) from None


def _loads(content: bytes | str) -> Any:
    """The body read as strict JSON; RecursionError past about a thousand levels of nesting
    (see ``nesting``)."""
    return json.loads(content, parse_constant=_refuse_constant)


def _not_json(endpoint: str, content: bytes) -> ApiResponseInvalid:
    return ApiResponseInvalid(f"{endpoint}: the body is not JSON ({len(content)} bytes)")


def _too_deep(endpoint: str, content: bytes) -> ApiResponseInvalid:
    return ApiResponseInvalid(
        f"{endpoint}: the body is nested too deep to be read ({len(content)} bytes)"
    )


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: no database column could store them as received."""
    raise ValueError(f"{name} is not a JSON number")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _record(endpoint: str, what: str, value: Any) -> dict[str, Any]:
    """An order, return or refund object, with its ``id`` (int or str) normalised to str."""
    if not isinstance(value, dict):
        raise ApiResponseInvalid(f"{endpoint}: {what} is a {_type_name(value)}, not an object")
    identifier = value.get("id")
    if isinstance(identifier, bool) or not isinstance(identifier, str | int) or identifier == "":
        raise ApiResponseInvalid(f"{endpoint}: {what} has no usable id (string or integer)")
    return {**value, "id": str(identifier)}


def _single(endpoint: str, what: str, value: Any) -> dict[str, Any]:
    """One object given either bare or as a one-element array (both shapes are documented)."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ApiResponseInvalid(
                f"{endpoint}: expected one {what} in the array, got {len(value)}"
            )
        value = value[0]
    return _record(endpoint, what, value)


def _wrapped(endpoint: str, body: Any, key: str) -> Any:
    if not isinstance(body, dict) or key not in body:
        raise ApiResponseInvalid(f"{endpoint}: expected an object with {key!r}")
    return body[key]


def token(content: bytes) -> str:
    """The token from a ``get_token`` body ``{"token": "..."}``."""
    body = _decode("get_token", content)
    value = body.get("token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise ApiResponseInvalid("get_token: the body has no non-empty 'token' string")
    return value


def page(endpoint: str, content: bytes, key: str) -> tuple[list[Any], str | None]:
    """The items under ``key`` (``orders`` or ``returns``) and the cursor of the next page.

    The items are as received: one without a usable id is set aside by the caller (it is
    quarantined), not allowed to fail the page; so is one nested too deep to be read at all,
    an :class:`~feedamp_sync.feedamp.nesting.Unreadable` with the text FeedAMP sent (the
    page is then read item by item). The next cursor is None at the end of the
    list, which FeedAMP may signal with a null, absent or empty ``next_cursor``, or with an
    empty page.
    """
    try:
        body = _loads(content)
    except RecursionError:
        body = _read_by_item(endpoint, content, key)
    except ValueError:
        raise _not_json(endpoint, content) from None
    records = _wrapped(endpoint, body, key)
    if not isinstance(records, list):
        raise ApiResponseInvalid(f"{endpoint}: {key!r} is a {_type_name(records)}, not a list")
    cursor = body.get("next_cursor")
    if isinstance(cursor, bool) or not isinstance(cursor, str | int | None):
        raise ApiResponseInvalid(f"{endpoint}: next_cursor is a {_type_name(cursor)}")
    if not records or cursor is None or cursor == "":
        return records, None
    return records, str(cursor)


def _read_by_item(endpoint: str, content: bytes, key: str) -> Any:
    """A body too deep to be read whole, read member by member and its ``key`` list item by
    item: an item too deep to be read is an :class:`~feedamp_sync.feedamp.nesting.Unreadable`
    among the others."""
    try:
        text = content.decode(json.detect_encoding(content), "surrogatepass")
        return read_by_item(text, key, _loads)
    except RecursionError:
        raise _too_deep(endpoint, content) from None
    except ValueError:
        raise _not_json(endpoint, content) from None


def wrapped_record(endpoint: str, content: bytes, key: str) -> dict[str, Any]:
    """The object under ``key`` (``order`` or ``return``), given bare or as a one-element array."""
    return _single(endpoint, key, _wrapped(endpoint, _decode(endpoint, content), key))


def confirmed_order(content: bytes) -> dict[str, Any]:
    """The order from a confirm response: ``{"order": {...}}`` (documented) or a bare array."""
    body = _decode("confirm", content)
    order = body if isinstance(body, list) else _wrapped("confirm", body, "order")
    return _single("confirm", "order", order)


def fulfill_result(content: bytes) -> Any:
    """What a fulfill response holds, as received: its ``order``, or the bare array.

    Success is the 2xx status itself (the response is documented two ways), so any JSON is
    accepted and an empty body gives None.
    """
    if not content.strip():
        return None
    body = _decode("fulfill", content)
    if isinstance(body, dict) and "order" in body:
        return body["order"]
    return body


def refund(content: bytes) -> dict[str, Any]:
    """The refund created: ``{"id", "order_id", "state", "refund_info"}``."""
    return _record("refund", "the refund", _decode("refund", content))


def error_message(content: bytes) -> str:
    """The API's reason from an error body of any shape, at most 300 characters.

    JSON ``error``, ``message`` or ``errors`` (a string, list or object) when present, else the
    body's text. An empty result means the body said nothing useful.
    """
    text = content.decode("utf-8", errors="replace").strip()
    try:
        message = _message_in(json.loads(text))
    except (ValueError, RecursionError):  # not JSON, or too deep to read or to flatten
        message = ""
    return _truncate(message or text)


def _message_in(body: Any) -> str:
    if isinstance(body, dict):
        return next((m for key in _ERROR_KEYS if (m := _flatten(body.get(key)))), "")
    if isinstance(body, str | list):
        return _flatten(body)
    return ""


def _flatten(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "; ".join(part for part in map(_flatten, value) if part)
    if isinstance(value, dict):
        return "; ".join(
            f"{key}: {part}" for key, item in value.items() if (part := _flatten(item))
        )
    return str(value)


def _truncate(text: str) -> str:
    if len(text) <= ERROR_MESSAGE_MAX_CHARS:
        return text
    return text[: ERROR_MESSAGE_MAX_CHARS - 3] + "..."
