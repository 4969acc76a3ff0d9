"""The shape of a message's payload, checked without any stored data.

Each seller payload is the API's own request body for its action (docs/feedamp-api.md §5, §6,
§9, §10), holding only what is new. :func:`check_payload` accepts it with the kind's own
payload model (exact API enums, strict types, no unknown keys; :mod:`.fields`) and returns it
*normalised*: the refund wrapper ``{"refund_info": {...}}`` unwrapped, a date-time without an
offset given ``+00:00``, absent lists made empty. Everything wrong is reported at once in
:class:`InvalidPayload`; the checks against the stored order or return are in ``context.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from feedamp_sync.errors import InvalidPayload
from feedamp_sync.model import Undecodable
from feedamp_sync.outbox.fields import path, problems, shown
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.storable import json_problems

Json = dict[str, Any]

OTHER_REASON_WARNING: Final = "'other' is refused by some marketplaces (FeedAMP advises against it)"


@dataclass(frozen=True)
class Checked:
    """A payload that passed its shape checks, normalised, with any warnings about it."""

    kind: str
    payload: Json
    warnings: tuple[str, ...] = ()


def check_payload(kind: Kind, payload: Any) -> Checked:
    """The normalised payload of a ``kind`` message; InvalidPayload names every problem.

    Text or nesting that some database cannot store is refused first, whatever the kind
    (:mod:`feedamp_sync.storable`). A kind without a payload model takes any JSON object
    as it is.
    """
    if isinstance(payload, Undecodable):
        # Not the text itself: it is the seller's data, and this reason is logged.
        raise InvalidPayload([f"{payload.where}: {payload.reason}"])
    unstorable = json_problems(payload)
    if unstorable:
        raise InvalidPayload(unstorable)
    if not isinstance(payload, dict):
        raise InvalidPayload([f"payload: must be a JSON object, got {shown(payload)}"])
    if kind.check is None:
        return Checked(kind.name, dict(payload))
    try:
        shape = kind.check.read(payload)
    except ValidationError as error:
        raise InvalidPayload(problems(error)) from None
    warnings = tuple(f"{path(loc)}: {text}" for loc, text in shape.warnings())
    return Checked(kind.name, shape.normalised(), warnings)
