"""Shipments and cancellations: PUT the order's whole set, so no earlier one is ever erased.

A ``fulfillment`` payload (its shape: ``fulfillment_payload``) is the API's request body
holding only what is new. Right before it is sent, the order is read from FeedAMP and the set
PUT is what FeedAMP holds, plus our earlier messages' entries it lacks, plus this message's
(``fulfillment_set``): shipments typed into FeedAMP's UI survive. The quantity check at
enqueue counts every earlier message that can still take effect; at delivery, FeedAMP's own
entries too. Each attempt records the body it PUT, and the message's next attempt is planned
with it: after an unknown outcome, the order read back is compared with that body, not with
our own entries alone.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import structlog
from pydantic import ValidationError

from feedamp_sync.core.attempts import Notice
from feedamp_sync.core.facts import EarlierMessage, Facts, OrderFacts, Target
from feedamp_sync.errors import ActionConflict, ApiRejected, ApiUnavailable
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.model import OutboxMessage
from feedamp_sync.order_states import is_cancelled, is_final
from feedamp_sync.outbox.context import unknown_line
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import path, shown
from feedamp_sync.outbox.fulfillment_payload import FulfillmentPayload
from feedamp_sync.outbox.fulfillment_set import (
    Holdings,
    Key,
    body,
    covered,
    held_by,
    newest_invoice,
    of_payloads,
    plus,
    sent_in,
    ships,
    took_effect,
    union,
    withdrawn_by,
    without,
)
from feedamp_sync.outbox.kind import Kind

log = structlog.get_logger(__name__)

Json = dict[str, Any]

HISTORY_UNREADABLE: Final = Notice(
    "fulfillment_history",
    "GET order shows no fulfillments or cancellations: shipments entered outside this daemon "
    "cannot be kept, only this daemon's own are sent",
)


def _normalised(payload: Any) -> Json | None:
    """An earlier message's payload as it is sent; None for a malformed one (an inserted row
    that goes dead when claimed), which covers nothing."""
    try:
        return FulfillmentPayload.read(payload).normalised()
    except ValidationError:
        return None


def _valid(earlier: tuple[EarlierMessage, ...]) -> list[tuple[int, Json]]:
    found = [(e.message_id, _normalised(e.payload)) for e in earlier]
    return [(message_id, payload) for message_id, payload in found if payload is not None]


# -- against the stored order --------------------------------------------------------------


def check_stored(payload: Json, facts: Facts) -> list[str]:
    """Every line must be the order's (with its SKU), and no line may ship or cancel more
    units than it has left after the earlier messages that can still take effect."""
    assert isinstance(facts, OrderFacts)
    problems: list[str] = []
    earlier = _valid(facts.earlier_messages)
    before = covered(of_payloads(p for _, p in earlier))
    after = covered(of_payloads([*(p for _, p in earlier), payload]))
    for index, line in enumerate(payload["order_lines"]):
        where = path(("order_lines", index))
        number = line["mp_line_number"]
        stored = facts.lines.get(number)
        if stored is None:
            problems.append(f"{where}.mp_line_number: {unknown_line(facts, number)}")
            continue
        if "sku" in line and stored.sku is not None and line["sku"] != stored.sku:
            problems.append(
                f"{where}.sku: {shown(line['sku'])} is not the SKU of line "
                f"{shown(number)} ({shown(stored.sku)})"
            )
        if stored.quantity is None or after.get(number, 0) <= stored.quantity:
            continue
        shipped = sum(s["quantity_shipped"] for s in line["fulfillments"])
        cancelled = sum(c["quantity_cancelled"] for c in line["cancellations"])
        done = before.get(number, 0)
        by = [
            message_id
            for message_id, earlier_payload in earlier
            if any(x["mp_line_number"] == number for x in earlier_payload["order_lines"])
        ]
        problems.append(
            f"{where}: ships {shipped} and cancels {cancelled} of line {shown(number)}, but only "
            f"{max(0, stored.quantity - done)} of its {stored.quantity} units are left"
            + (f" ({done} covered by outbox messages {', '.join(map(str, by))})" if by else "")
        )
    return problems


# -- what is sent, and how -----------------------------------------------------------------


@dataclass(frozen=True)
class FulfillmentPlan:
    """This message's payload, the payloads of the order's earlier sent fulfillments in
    enqueue order, and the body this message's latest earlier attempt PUT (``last_sent``,
    None on a first attempt); FeedAMP's own set joins them when it is read, right before the
    PUT. Each attempt keeps the body it PUT here for its record."""

    history: tuple[Json, ...]
    new: Json
    last_sent: Json | None = None
    _put: list[Json] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def request(self) -> Json | None:
        """The body this attempt PUT; None when it ended before sending one."""
        return self._put[-1] if self._put else None

    def putting(self, sent: Json) -> Json:
        """``sent``, recorded as this attempt's request before it goes out."""
        self._put.append(sent)
        return sent

    @property
    def own(self) -> Holdings:
        """The set our own messages make, this one included (FeedAMP's entries join it when
        it is read)."""
        kept, _ = without(self.earlier, self.withdrawn)
        return plus(kept, self.carried)

    @property
    def sent_before(self) -> Holdings:
        """What the latest earlier attempt PUT; when no attempt recorded one (the process
        ended mid-attempt), at least our own set, which every body holds."""
        recorded = sent_in(self.last_sent)
        return self.own if recorded is None else recorded

    @property
    def withdrawn(self) -> dict[str, list[Key]]:
        return withdrawn_by(self.new)

    @property
    def earlier(self) -> Holdings:
        return of_payloads(self.history)

    @property
    def carried(self) -> Holdings:
        return of_payloads([self.new])

    @property
    def invoice_number(self) -> str | None:
        return newest_invoice([*self.history, self.new])


def plan(payload: Json, facts: Facts) -> FulfillmentPlan:
    assert isinstance(facts, OrderFacts)
    last_sent = facts.last_request if isinstance(facts.last_request, dict) else None
    return FulfillmentPlan(tuple(p for _, p in _valid(facts.sent_earlier)), payload, last_sent)


SETTLE_ATTEMPTS: Final = 5
"""Attempts in a budget after which a refusal that the order, read back, cannot settle is
final: until then it is retried with the outbox's backoff, since FeedAMP's copy may lag."""


def deliver(client: FeedampClient, message: OutboxMessage) -> Delivered:
    """Read the order, then PUT FeedAMP's set, plus our earlier entries it lacks, plus this
    message's.

    After an attempt whose outcome is unknown, the order read first settles it when it can
    (:func:`_settled`): nothing is sent again. A rejection (``order is complete``) of such a
    retry reads the order again: settled, the message is sent; not, it is retried a few times
    (FeedAMP's copy may lag) and then final, saying what FeedAMP holds. A rejection of a first
    attempt is final at once.
    """
    planned: FulfillmentPlan = message.plan
    retrying = message.earlier_attempt_may_have_applied
    order = client.get_order(message.target_id)
    held = held_by(order)
    if held is None:
        _warn_unreadable(client, message.target_id)
    if retrying and (settled := _settled(order, held, planned, message.target_id)) is not None:
        return settled
    if not message.retried_by_operator:
        _refuse_cancelled(order, message.target_id)
    ours = planned.earlier if held is None else union(held, planned.earlier)
    kept, unmatched = without(ours, planned.withdrawn)
    if unmatched:
        raise ActionConflict(
            f"order {message.target_id} has no shipment to withdraw of "
            f"{'; '.join(unmatched)}; FeedAMP holds {_described(held)}"
        )
    sent = body(plus(kept, planned.carried), planned.invoice_number)
    _require_room(order, sent, held, message.target_id)
    notice = HISTORY_UNREADABLE if held is None else None
    try:
        response = client.fulfill_order(message.target_id, planned.putting(sent))
    except ApiRejected as rejection:
        if not retrying:
            raise ApiRejected(
                f"{rejection.message}; FeedAMP holds {_described(held)}",
                status_code=rejection.status_code,
            ) from None
        order = client.get_order(message.target_id)
        held = held_by(order)
        if (settled := _settled(order, held, planned, message.target_id)) is not None:
            return settled
        unsettled = (
            f"{rejection.message}; after an attempt whose outcome is unknown, the order read "
            f"back does not show it took effect: FeedAMP holds {_held_now(order, held)}"
        )
        if message.attempts_in_budget < SETTLE_ATTEMPTS:
            raise ApiUnavailable(unsettled, status_code=rejection.status_code) from None
        raise ApiRejected(unsettled, status_code=rejection.status_code) from None
    return Delivered(request=sent, response=response, notice=notice)


def _settled(
    order: Mapping[str, Any], held: Holdings | None, planned: FulfillmentPlan, order_id: str
) -> Delivered | None:
    """Whether an earlier attempt's PUT took effect, as the order read back shows it: sent
    when FeedAMP holds what that body left it holding for this message's entries; or, when
    FeedAMP's copy shows no such entries (no fulfillment data, or entries that lag behind its
    state) but its state says every unit is shipped or cancelled, and that body covered every
    line, sent too, with a warning saying so. None: not settled."""
    before = planned.sent_before
    recorded = planned.last_sent or body(planned.own, planned.invoice_number)
    if held is not None and took_effect(held, before, planned.carried, planned.withdrawn):
        log.info("fulfillment_reconciled", order_id=order_id)
        return Delivered(request=recorded, response=order, reconciled=True)
    if not _completed_by(order, held, before):
        return None
    reason = (
        f"FeedAMP shows order {order_id} {_states_shown(order)} but not the entries behind it "
        f"({_described(held)}); the body an earlier attempt PUT completes every line"
    )
    log.warning("fulfillment_reconciled_by_order_state", order_id=order_id, reason=reason)
    return Delivered(
        request=recorded,
        response={"reconciled": reason, "order": order},
        reconciled=True,
        notice=HISTORY_UNREADABLE if held is None else None,
    )


def _completed_by(order: Mapping[str, Any], held: Holdings | None, sent: Holdings) -> bool:
    """Whether FeedAMP's state says the order is done while the entries it shows do not
    complete it, and ``sent`` completes every line (shipping nothing if the order shows
    cancelled): then that PUT is what completed it."""
    state, marketplace_state = _states(order)
    if not is_final(state, marketplace_state):
        return False
    if is_cancelled(state, marketplace_state) and ships(sent):
        return False
    ordered = _ordered_quantities(order)
    units = covered(sent)
    if not ordered or any(units.get(number, 0) < q for number, q in ordered.items()):
        return False
    shown = covered(held) if held is not None else {}
    return held is None or any(shown.get(number, 0) < q for number, q in ordered.items())


def _states(order: Mapping[str, Any]) -> tuple[str | None, str | None]:
    state, marketplace_state = order.get("state"), order.get("marketplace_state")
    return (
        state if isinstance(state, str) else None,
        marketplace_state if isinstance(marketplace_state, str) else None,
    )


def _states_shown(order: Mapping[str, Any]) -> str:
    state, marketplace_state = _states(order)
    return f"in state {state}, marketplace_state {marketplace_state}"


def _held_now(order: Mapping[str, Any], held: Holdings | None) -> str:
    return f"{_described(held)}, the order {_states_shown(order)}"


def _refuse_cancelled(order: Mapping[str, Any], order_id: str) -> None:
    """A shipment for an order the customer cancelled on the marketplace after our confirm is
    not sent blindly: the message goes dead saying so. An operator who retries it has looked,
    and it is sent."""
    state, marketplace_state = _states(order)
    if is_cancelled(state, marketplace_state):
        raise ActionConflict(
            f"order {order_id} was cancelled on the marketplace (FeedAMP shows state "
            f"{state}, marketplace_state {marketplace_state}); "
            "not sent: 'outbox retry' sends it anyway"
        )


def _require_room(
    order: Mapping[str, Any], sent: Json, held: Holdings | None, order_id: str
) -> None:
    """Refuse to send more units of a line than it has, counting FeedAMP's own entries."""
    ordered = _ordered_quantities(order)
    for number, units in covered(of_payloads([sent])).items():
        quantity = ordered.get(number)
        if quantity is not None and units > quantity:
            raise ActionConflict(
                f"line {number} of order {order_id} would have {units} units shipped or "
                f"cancelled but has {quantity}; FeedAMP holds {_described(held)}"
            )


def _ordered_quantities(order: Mapping[str, Any]) -> dict[str, int]:
    info = order.get("order_info")
    lines = info.get("order_lines") if isinstance(info, Mapping) else None
    return {
        str(line["mp_line_number"]): line["quantity"]
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, Mapping)
        and line.get("mp_line_number") is not None
        and isinstance(line.get("quantity"), int)
        and not isinstance(line.get("quantity"), bool)
    }


def _described(held: Holdings | None) -> str:
    if held is None:
        return "no fulfillment data this daemon can read"
    units = covered(held)
    if not units:
        return "no shipment or cancellation"
    return ", ".join(f"{units[n]} unit(s) of line {n}" for n in sorted(units))


_warned: weakref.WeakSet[FeedampClient] = weakref.WeakSet()
_warned_lock = threading.Lock()


def _warn_unreadable(client: FeedampClient, order_id: str) -> None:
    """Once per account while its client lives (a daemon's run): FeedAMP's orders show no
    fulfillment data, so what it holds from elsewhere cannot be kept; only our own is sent."""
    with _warned_lock:
        if client in _warned:
            return
        _warned.add(client)
    log.warning(
        "fulfillment_history_unreadable",
        account=client.account_name,
        order_id=order_id,
        hint=HISTORY_UNREADABLE.text,
    )


FULFILLMENT: Final = Kind(
    name="fulfillment",
    cli_name="fulfillment",
    summary="new shipments and cancellations of an order",
    target=Target.ORDER,
    check=FulfillmentPayload,
    check_stored=check_stored,
    plan=plan,
    deliver=deliver,
    builds_on_earlier=True,
)
