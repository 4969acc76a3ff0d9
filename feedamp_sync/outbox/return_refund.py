"""Return refunds: every named line (or every line of the return) refunded in full, once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import structlog
from pydantic import Field

from feedamp_sync.core.facts import Facts, ReturnFacts, Target
from feedamp_sync.errors import ApiRejected
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import FullRefund, Problem, Shape, Text, named_twice, path, shown
from feedamp_sync.outbox.kind import Kind

log = structlog.get_logger(__name__)

Json = dict[str, Any]

REFUNDED_STATES: Final = frozenset({"Processing Refund", "Merchant Refunded"})


class RefundLine(Shape):
    feedamp_return_line_id: Text
    merchant_full_refund: FullRefund


class ReturnRefundPayload(Shape):
    """The lines to refund in full; none (or ``[]``) means every line of the stored return."""

    merchant_refund_lines: list[RefundLine] = Field(
        default_factory=list, exclude_if=lambda lines: not lines
    )

    @classmethod
    def object_problems(cls, given: Mapping[str, Any]) -> list[Problem]:
        return [
            Problem(
                ("merchant_refund_lines", index, "feedamp_return_line_id"),
                f"{shown(line_id)} is named twice (also {path(('merchant_refund_lines', first))})",
                listed_at=("merchant_refund_lines", index),
            )
            for index, first, line_id in named_twice(
                given.get("merchant_refund_lines"), "feedamp_return_line_id"
            )
        ]


def check_stored(payload: Json, facts: Facts) -> list[str]:
    """Every named line must be the return's; with none named, the return needs a line.

    FeedAMP's return lines may carry no ``feedamp_return_line_id`` (nor ``id``: the docs'
    sample shows neither). Then the lines the seller names, with the ids FeedAMP shows for
    them, are taken as given, since there is nothing to check them against; naming none
    cannot work, and is refused saying so.
    """
    assert isinstance(facts, ReturnFacts)
    lines = payload.get("merchant_refund_lines", [])
    if not facts.line_ids:
        if lines:
            return []
        return [
            f"merchant_refund_lines: none given, and the lines of stored return "
            f"{facts.return_id} carry no feedamp_return_line_id (nor id) to refund them by; "
            "name each line in merchant_refund_lines with the feedamp_return_line_id FeedAMP "
            "shows for it"
        ]
    known = ", ".join(facts.line_ids)
    return [
        f"{path(('merchant_refund_lines', index, 'feedamp_return_line_id'))}: "
        f"{shown(line['feedamp_return_line_id'])} is not a line of return {facts.return_id} "
        f"(its lines: {known})"
        for index, line in enumerate(lines)
        if line["feedamp_return_line_id"] not in facts.line_ids
    ]


@dataclass(frozen=True)
class ReturnRefundPlan:
    """The return lines to refund in full: those named, or every stored line of the return."""

    line_ids: tuple[str, ...]

    @property
    def request(self) -> Json:
        return self.body

    @property
    def body(self) -> Json:
        return {
            "merchant_refund_lines": [
                {"feedamp_return_line_id": line_id, "merchant_full_refund": True}
                for line_id in self.line_ids
            ]
        }


def plan(payload: Json, facts: Facts) -> ReturnRefundPlan:
    assert isinstance(facts, ReturnFacts)
    named = [line["feedamp_return_line_id"] for line in payload.get("merchant_refund_lines", [])]
    return ReturnRefundPlan(tuple(named) or facts.line_ids)


def return_refunded(returned: Mapping[str, Any], line_ids: Sequence[str]) -> bool:
    """Whether a return read back from FeedAMP shows our refund already applied: its state is
    past the refund, or every line we refund is marked refunded (``merchant_refunded``, the
    sandbox's convention; the docs show no per-line refund field)."""
    if returned.get("state") in REFUNDED_STATES:
        return True
    info = returned.get("return_info")
    lines = info.get("return_lines") if isinstance(info, Mapping) else None
    refunded = {
        str(line.get("feedamp_return_line_id") or line.get("id"))
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, Mapping) and line.get("merchant_refunded") is True
    }
    return bool(line_ids) and set(line_ids) <= refunded


def already_refunded(rejection: ApiRejected, *, earlier_attempt_may_have_applied: bool) -> bool:
    """After an attempt with an unknown outcome, "already refunded" (a 409, or a 4xx that says
    so) is that attempt's success; on a first attempt it is an error to look at."""
    status = rejection.status_code or 0
    said = 400 <= status < 500 and "already refunded" in rejection.message.lower()
    return earlier_attempt_may_have_applied and (status == 409 or said)


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    planned: ReturnRefundPlan = message.plan
    earlier = message.earlier_attempt_may_have_applied
    if earlier:
        returned = client.get_return(message.target_id)
        if return_refunded(returned, planned.line_ids):
            log.info("return_refund_reconciled", return_id=message.target_id)
            return Delivered(request=planned.body, response=returned, reconciled=True)
    try:
        response = client.refund_return(message.target_id, planned.body)
    except ApiRejected as rejection:
        if not already_refunded(rejection, earlier_attempt_may_have_applied=earlier):
            raise
        log.info("return_refund_reconciled", return_id=message.target_id)
        return Delivered(
            request=planned.body,
            response={"reconciled": f"FeedAMP: {rejection.message}"},
            status_code=rejection.status_code,
            reconciled=True,
        )
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
