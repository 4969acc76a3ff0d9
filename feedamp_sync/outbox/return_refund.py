"""Return refunds: every named line (or every line of the return) refunded in full, once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import structlog
from pydantic import Field

from feedamp_sync.core.facts import Facts, ReturnFacts, StoredReturnLine, Target
from feedamp_sync.errors import ApiRejected, InvalidPayload
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import FullRefund, Problem, Shape, Text, named_twice, path, shown
from feedamp_sync.outbox.kind import Kind

log = structlog.get_logger(__name__)

Json = dict[str, Any]

REFUNDED_STATES: Final = frozenset({"Processing Refund", "Merchant Refunded"})


LINE_KEYS: Final = ("feedamp_return_line_id", "mp_return_line_number")
"""What a payload may name a return line by: FeedAMP's id for it, or the marketplace's
number for it (which every stored line has)."""


class RefundLine(Shape):
    """One line to refund in full, named by FeedAMP's id or by its ``mp_return_line_number``."""

    feedamp_return_line_id: Text | None = None
    mp_return_line_number: Text | None = None
    merchant_full_refund: FullRefund

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        named = [key for key in LINE_KEYS if given.get(key) is not None]
        if len(named) == 1:
            return []
        text = (
            "give feedamp_return_line_id or mp_return_line_number, not both"
            if named
            else "name the line by feedamp_return_line_id or mp_return_line_number"
        )
        return [Problem((), text)]


class ReturnRefundPayload(Shape):
    """The lines to refund in full; none (or ``[]``) means every line of the stored return."""

    merchant_refund_lines: list[RefundLine] = Field(
        default_factory=list, exclude_if=lambda lines: not lines
    )

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        return [
            Problem(
                ("merchant_refund_lines", index, key),
                f"{shown(value)} is named twice (also {path(('merchant_refund_lines', first))})",
                listed_at=("merchant_refund_lines", index),
            )
            for key in LINE_KEYS
            for index, first, value in named_twice(given.get("merchant_refund_lines"), key)
        ]


def check_stored(payload: Json, facts: Facts) -> list[str]:
    """Every named line must be one of the stored return's, once; with none named, the
    return needs a line.

    FeedAMP's return lines may carry no ``feedamp_return_line_id`` (nor ``id``: the docs'
    sample shows neither). Such a line is known by its ``mp_return_line_number``, which is
    also what the refund sends for it (in either field of the payload); an id that is no
    line's is refused, saying what to name the line by instead.
    """
    assert isinstance(facts, ReturnFacts)
    lines = payload.get("merchant_refund_lines", [])
    if not lines and not facts.lines:
        return [
            f"merchant_refund_lines: none given, and stored return {facts.return_id} has no "
            "line to refund (FeedAMP showed none with an mp_return_line_number); read it "
            f"again with `feedamp-sync returns fetch {facts.return_id}`"
        ]
    problems: list[str] = []
    first: dict[StoredReturnLine, int] = {}
    for index, named in enumerate(lines):
        found = _stored_line(named, facts)
        key = next(key for key in LINE_KEYS if key in named)
        where = path(("merchant_refund_lines", index, key))
        if isinstance(found, str):
            problems.append(f"{where}: {found}")
        elif found in first:
            earlier = path(("merchant_refund_lines", first[found]))
            problems.append(f"{where}: names the same line as {earlier}")
        else:
            first[found] = index
    return problems


def _stored_line(named: Mapping[str, Any], facts: ReturnFacts) -> StoredReturnLine | str:
    """The stored line a payload's line names, or what is wrong with the name."""
    number = named.get("mp_return_line_number")
    if number is not None:
        for line in facts.lines:
            if line.mp_return_line_number == number:
                return line
        numbers = ", ".join(line.mp_return_line_number for line in facts.lines) or "none stored"
        return f"{shown(number)} is not a line of return {facts.return_id} (its lines: {numbers})"
    line_id = named["feedamp_return_line_id"]
    for line in facts.lines:
        if line.key == line_id:
            return line
    keys = ", ".join(line.key for line in facts.lines) or "none stored"
    if any(line.line_id is not None for line in facts.lines):
        return f"{shown(line_id)} is not a line of return {facts.return_id} (its lines: {keys})"
    return (
        f"{shown(line_id)} is not a line of return {facts.return_id}: its lines carry no "
        "feedamp_return_line_id (nor id), so name the line by its mp_return_line_number "
        f"(its lines: {keys})"
    )


@dataclass(frozen=True)
class ReturnRefundPlan:
    """The return lines to refund in full (those named, or every stored line of the
    return), each sent by its key: FeedAMP's id, else its ``mp_return_line_number``.
    ``every_line``: they are all the stored return's lines."""

    lines: tuple[StoredReturnLine, ...]
    every_line: bool = False

    @property
    def request(self) -> Json:
        return self.body

    @property
    def body(self) -> Json:
        return {
            "merchant_refund_lines": [
                {"feedamp_return_line_id": line.key, "merchant_full_refund": True}
                for line in self.lines
            ]
        }


def plan(payload: Json, facts: Facts) -> ReturnRefundPlan:
    assert isinstance(facts, ReturnFacts)
    named = payload.get("merchant_refund_lines", [])
    if not named:
        return ReturnRefundPlan(facts.lines, every_line=True)
    found = [_stored_line(line, facts) for line in named]
    problems = [problem for problem in found if isinstance(problem, str)]
    if problems:
        raise InvalidPayload(problems)
    lines = tuple(line for line in found if isinstance(line, StoredReturnLine))
    return ReturnRefundPlan(lines, every_line=set(lines) == set(facts.lines))


def return_refunded(returned: Mapping[str, Any], planned: ReturnRefundPlan) -> bool:
    """Whether a return read back from FeedAMP shows our refund already applied.

    Every line we refund marked refunded (``merchant_refunded``, the sandbox's convention;
    the docs show no per-line refund field) means it did. So does a state past the refund,
    but only when we refund every line of the return: a return is "Processing Refund" too
    when another of its lines was refunded before. The lines FeedAMP shows now decide that
    when it shows any, else the stored ones.
    """
    info = returned.get("return_info")
    shown_lines = info.get("return_lines") if isinstance(info, Mapping) else None
    shown_lines = [
        line
        for line in (shown_lines if isinstance(shown_lines, list) else [])
        if isinstance(line, Mapping)
    ]
    ours = [line for line in shown_lines if any(_is(line, p) for p in planned.lines)]
    if planned.lines and all(
        any(_is(line, p) and line.get("merchant_refunded") is True for line in ours)
        for p in planned.lines
    ):
        return True
    if returned.get("state") not in REFUNDED_STATES:
        return False
    return len(ours) == len(shown_lines) if shown_lines else planned.every_line


def _is(shown_line: Mapping[str, Any], line: StoredReturnLine) -> bool:
    """Whether a line FeedAMP shows is the stored ``line``: the same id, or the same
    marketplace number."""
    line_id = shown_line.get("feedamp_return_line_id") or shown_line.get("id")
    if line.line_id is not None and line_id not in (None, "") and str(line_id) == line.line_id:
        return True
    number = shown_line.get("mp_return_line_number")
    return number not in (None, "") and str(number) == line.mp_return_line_number


def already_refunded(rejection: ApiRejected, *, earlier_outcome_unknown: bool, lines: int) -> bool:
    """Whether "already refunded" (a 409, or a 4xx that says so) is our earlier attempt's
    success: only after an attempt whose outcome is unknown, and only for a refund of one
    line, since the refusal does not say which line it means."""
    return earlier_outcome_unknown and lines == 1 and _says_refunded(rejection)


def _says_refunded(rejection: ApiRejected) -> bool:
    status = rejection.status_code or 0
    said = 400 <= status < 500 and "already refunded" in rejection.message.lower()
    return status == 409 or said


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    planned: ReturnRefundPlan = message.plan
    unknown = message.earlier_outcome_unknown
    if message.earlier_attempt_may_have_applied:
        returned = client.get_return(message.target_id)
        if return_refunded(returned, planned):
            log.info("return_refund_reconciled", return_id=message.target_id)
            return Delivered(request=planned.body, response=returned, reconciled=True)
    try:
        response = client.refund_return(message.target_id, planned.body)
    except ApiRejected as rejection:
        if already_refunded(rejection, earlier_outcome_unknown=unknown, lines=len(planned.lines)):
            log.info("return_refund_reconciled", return_id=message.target_id)
            return Delivered(
                request=planned.body,
                response={"reconciled": f"FeedAMP: {rejection.message}"},
                status_code=rejection.status_code,
                reconciled=True,
            )
        if not (unknown and _says_refunded(rejection)):
            raise
        keys = ", ".join(line.key for line in planned.lines)
        raise ApiRejected(
            f"{rejection.message}; an earlier attempt of this refund had an unknown outcome, "
            f"and FeedAMP does not say which of lines {keys} are refunded: check return "
            f"{message.target_id} in the marketplace before retrying or cancelling this message",
            status_code=rejection.status_code,
        ) from None
    return Delivered(request=planned.body, response=response)


RETURN_REFUND: Final = Kind(
    name="return_refund",
    cli_name="return-refund",
    summary="refund a return's lines in full (all lines by default)",
    target=Target.RETURN,
    check=ReturnRefundPayload,
    check_stored=check_stored,
    plan=plan,
    deliver=deliver,
)
