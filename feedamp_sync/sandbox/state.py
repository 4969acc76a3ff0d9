"""The sandbox's in-memory FeedAMP account: orders, refunds, returns, and their rules.

Pure of HTTP: operations take checked values and either change the world and return
``(response object, effect)`` or raise :class:`Rejected` without changing anything. One lock
guards everything, so each operation is atomic with respect to concurrent requests, which is
what makes the uniqueness rules (one ``cp_order_number`` per order, unique refund and return
numbers) hold under a client that sends in parallel. Objects leave the world as deep copies so
no caller can change state behind the lock.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.sandbox import fulfillment
from feedamp_sync.sandbox.generate import Generator, raw_marketplace_data
from feedamp_sync.sandbox.pages import EndOfPages, Page, paginate
from feedamp_sync.sandbox.parse import FulfillLine, FulfillRequest, ReturnQuery
from feedamp_sync.sandbox.timestamps import now_ms, parse_filter, render
from feedamp_sync.sandbox.vocab import (
    CANCELLED,
    OPEN_RETURN_STATES,
    ORDERED,
    PLACED,
    REFUNDABLE_RETURN_STATES,
    RETURN_STATES,
)
from feedamp_sync.sandbox.wire import JSON, Rejected

_PLAIN: Final = fulfillment.Echo()


@dataclass
class _Return:
    """A return object plus the instants the search filters compare (epoch ms)."""

    data: JSON
    created: int
    refreshed: int


@dataclass(frozen=True)
class PageRequest:
    """How a list endpoint was asked to page, and the page form currently configured."""

    limit: int
    cursor: str | None
    offset_mode: bool
    end_of_pages: EndOfPages
    stuck: bool = False


class World:
    """All orders, refunds and returns of one FeedAMP client account."""

    def __init__(
        self,
        *,
        seed: int | str,
        clock: Callable[[], float],
        cancel_after_confirm: float = 0.0,
        order_ids_from: int = 10_000,
    ) -> None:
        self._lock = threading.Lock()
        self._cancel_after_confirm = cancel_after_confirm
        self._cancel_decided: set[str] = set()
        self._clock = clock
        self._rng = random.Random(seed)
        self._generator = Generator(self._rng)
        self._orders: dict[str, JSON] = {}
        self._returns: dict[str, _Return] = {}
        self._refunds: dict[str, JSON] = {}
        self._order_by_cp_number: dict[str, str] = {}
        self._refund_by_cp_number: dict[str, str] = {}
        self._return_by_merchant_number: dict[str, str] = {}
        self._last_order_id = order_ids_from
        self._last_return_id = 5_000
        self._last_return_line_id = 900_000
        self._last_refund_id = 70_000
        self._served_as: dict[tuple[str, str], Callable[[JSON], Any]] = {}

    # -- building the world (Python API and control endpoints) -----------------------------

    def add_orders(self, count: int) -> list[str]:
        """Generate ``count`` new unconfirmed orders; ids ascend with small random gaps."""
        with self._lock:
            return self._add_orders(count)

    def _add_orders(self, count: int) -> list[str]:
        now = now_ms(self._clock())
        ids = []
        for _ in range(count):
            self._last_order_id += self._rng.randint(1, 5)
            order_id = str(self._last_order_id)
            self._orders[order_id] = self._generator.order(order_id, now)
            ids.append(order_id)
        return ids

    def add_returns(self, count: int, states: Sequence[str] | None = None) -> list[str]:
        """Generate ``count`` returns of random existing orders.

        Return ``i`` gets ``states[i % len(states)]``, or a random state when ``states`` is not
        given. With no order in the world, ``count`` new (unconfirmed) orders are generated
        first to be returned, so a returns-only test needs no setup.
        """
        for state in states or ():
            if state not in RETURN_STATES:
                raise ValueError(f"unknown return state {state!r}")
        with self._lock:
            if not self._orders:
                self._add_orders(count)
            now = now_ms(self._clock())
            order_ids = list(self._orders)
            ids = []
            for index in range(count):
                state = states[index % len(states)] if states else self._rng.choice(RETURN_STATES)
                ids.append(self._add_return(self._rng.choice(order_ids), state, now))
            return ids

    def _add_return(self, order_id: str, state: str, now: int) -> str:
        self._last_return_id += self._rng.randint(1, 3)
        return_id = str(self._last_return_id)
        line_ids = []
        for _ in range(self._rng.randint(1, 3)):
            self._last_return_line_id += 1
            line_ids.append(str(self._last_return_line_id))
        number: str | None = None
        if state != "Pending Authorization" and self._rng.random() < 0.6:
            candidate = f"RMA-{return_id}"
            number = None if candidate in self._return_by_merchant_number else candidate
        data = self._generator.return_(
            return_id, self._orders[order_id], state, now, line_ids, number
        )
        if number is not None:
            self._return_by_merchant_number[number] = return_id
        created, _ = parse_filter(data["created_at"])
        self._returns[return_id] = _Return(data=data, created=created, refreshed=now)
        return return_id

    def set_return_state(self, return_id: str, state: str) -> None:
        """Move a return to ``state`` as the marketplace would (e.g. item received → Pending
        Refund); raises KeyError for an unknown return, ValueError for an unknown state."""
        if state not in RETURN_STATES:
            raise ValueError(f"unknown return state {state!r}")
        with self._lock:
            record = self._returns[return_id]
            record.data["state"] = state
            self._touch(record)

    def set_order_state(
        self, order_id: str, state: str, marketplace_state: str | None = None
    ) -> None:
        """Move an order to another state after confirm, as FeedAMP or the marketplace would
        (a customer's cancellation: ``CANCELLED``, ``CANCELLED``); raises KeyError for an
        unknown order, ValueError for an empty state."""
        if not state or marketplace_state == "":
            raise ValueError("state (and marketplace_state, when given) must not be empty")
        with self._lock:
            order = self._orders[order_id]
            order["state"] = state
            if marketplace_state is not None:
                order["marketplace_state"] = marketplace_state

    def _maybe_cancel(self, order: JSON) -> None:
        """With ``cancel_after_confirm``, each confirmed order gets one roll of the dice, at
        its first read after confirm, to have been cancelled on the marketplace meanwhile."""
        if (
            self._cancel_after_confirm <= 0
            or order["state"] != PLACED
            or order["id"] in self._cancel_decided
        ):
            return
        self._cancel_decided.add(order["id"])
        if self._rng.random() < self._cancel_after_confirm:
            order["state"] = order["marketplace_state"] = CANCELLED

    def _touch(self, record: _Return) -> None:
        """Note a change: the refreshed-before/after filters see it from now on."""
        record.refreshed = max(record.refreshed, now_ms(self._clock()))
        record.data["refreshed_at"] = render(record.refreshed)

    # -- reading (Python API) ---------------------------------------------------------------

    def order(self, order_id: str) -> JSON:
        """A copy of the order; KeyError if unknown."""
        with self._lock:
            return _snapshot(self._orders[order_id])

    def return_(self, return_id: str) -> JSON:
        """A copy of the return; KeyError if unknown."""
        with self._lock:
            return _snapshot(self._returns[return_id].data)

    def confirmed_orders(self) -> dict[str, str]:
        """Order id → ``cp_order_number`` of every confirmed order."""
        with self._lock:
            return {order_id: number for number, order_id in self._order_by_cp_number.items()}

    def unconfirmed_orders(self) -> list[str]:
        """Ids of the orders "get new orders" would list, ascending."""
        with self._lock:
            return [i for i, order in self._orders.items() if order["state"] == ORDERED]

    def summary(self) -> JSON:
        """Counts of everything, for the control endpoint and the demo."""
        with self._lock:
            order_states = Counter(order["state"] for order in self._orders.values())
            return_states = Counter(r.data["state"] for r in self._returns.values())
            return {
                "orders": {
                    "total": len(self._orders),
                    "unconfirmed": order_states[ORDERED],
                    "confirmed": len(self._order_by_cp_number),
                    "by_state": dict(order_states),
                },
                "refunds": len(self._refunds),
                "returns": {
                    "total": len(self._returns),
                    "open": sum(return_states[s] for s in OPEN_RETURN_STATES),
                    "by_state": dict(return_states),
                },
            }

    # -- the API's operations ---------------------------------------------------------------

    def _order_or_404(self, order_id: str) -> JSON:
        order = self._orders.get(order_id)
        if order is None:
            raise Rejected(404, f"order {order_id} not found")
        return order

    def _return_or_404(self, return_id: str) -> _Return:
        record = self._returns.get(return_id)
        if record is None:
            raise Rejected(404, f"return {return_id} not found")
        return record

    def serve_as(self, what: str, key: str, mangle: Callable[[JSON], Any] | None) -> None:
        """Serve an order or return (``what``) as ``mangle`` makes it (malformed, say) on every
        read of it, while the world keeps the real one; None serves it plainly again. ``what``
        ``answer`` is the answer to each action on order ``key`` (:meth:`answer`)."""
        with self._lock:
            if what in ("order", "answer"):
                self._order_or_404(key)
            else:
                self._return_or_404(key)
            if mangle is None:
                self._served_as.pop((what, key), None)
            else:
                self._served_as[(what, key)] = mangle

    def answer(self, order_id: str, answer: JSON) -> Any:
        """The answer to an action on an order (confirm, fulfill, refund), as served."""
        with self._lock:
            mangle = self._served_as.get(("answer", order_id))
        return answer if mangle is None else mangle(answer)

    def _served(self, what: str, obj: JSON) -> Any:
        mangle = self._served_as.get((what, obj["id"]))
        return obj if mangle is None else mangle(obj)

    def _presented(self, order: JSON, include_raw: bool, echo: fulfillment.Echo = _PLAIN) -> Any:
        shown = _snapshot(order)
        for line in shown["order_info"]["order_lines"]:
            echo.show(line)
        if include_raw:
            shown["raw"] = raw_marketplace_data(order)
        return self._served("order", shown)

    def new_orders(
        self, paging: PageRequest, *, marketplace_fulfilled: bool | None, include_raw: bool
    ) -> Page[JSON]:
        """A page of unconfirmed orders, optionally only (or never) marketplace-fulfilled."""
        with self._lock:
            listed = [
                order
                for order in self._orders.values()
                if order["state"] == ORDERED
                and (
                    marketplace_fulfilled is None
                    or marketplace_fulfilled
                    == any(
                        line["marketplace_fulfilled"] for line in order["order_info"]["order_lines"]
                    )
                )
            ]
            page = paginate(
                listed,
                lambda order: int(order["id"]),
                limit=paging.limit,
                cursor=paging.cursor,
                offset_mode=paging.offset_mode,
                end_of_pages=paging.end_of_pages,
                stuck=paging.stuck,
            )
            return Page([self._presented(o, include_raw) for o in page.items], page.next_cursor)

    def get_order(self, order_id: str, *, include_raw: bool, echo: fulfillment.Echo) -> Any:
        with self._lock:
            order = self._order_or_404(order_id)
            self._maybe_cancel(order)
            return self._presented(order, include_raw, echo)

    def confirm(self, order_id: str, cp_order_number: str) -> tuple[JSON, JSON]:
        """ORDERED → PLACED with the seller's number; a second confirm is refused (409)."""
        with self._lock:
            order = self._order_or_404(order_id)
            if order["state"] != ORDERED:
                raise Rejected(409, "order already confirmed")
            if cp_order_number in self._order_by_cp_number:
                raise Rejected(409, "duplicate cp_order_number")
            order["state"] = PLACED
            order["acknowledged"] = 1
            order["order_info"]["cp_order_number"] = cp_order_number
            self._order_by_cp_number[cp_order_number] = order_id
            shown = {"id": order_id, "cp_order_number": cp_order_number, "state": PLACED}
            return shown, {
                "kind": "confirm",
                "order_id": order_id,
                "cp_order_number": cp_order_number,
            }

    def fulfill(self, order_id: str, request: FulfillRequest) -> tuple[JSON, JSON]:
        """Replace every shipment and cancellation of a confirmed order."""
        with self._lock:
            order = self._order_or_404(order_id)
            fulfillment.check(order, request)
            fulfillment.apply(order, request)
            return _snapshot(order), fulfillment.effect(order, request)

    def enter_shipment(self, order_id: str, mp_line_number: str, shipment: JSON) -> None:
        """Add a shipment to a line the way a person typing it into FeedAMP's UI would: with
        no request the daemon sees, on top of what the order holds."""
        with self._lock:
            order = self._order_or_404(order_id)
            lines = order["order_info"]["order_lines"]
            if not any(line["mp_line_number"] == mp_line_number for line in lines):
                raise KeyError(mp_line_number)
            request = FulfillRequest(
                order["order_info"].get("invoice_number"),
                [
                    FulfillLine(
                        line["mp_line_number"],
                        None,
                        [*line.get("fulfillments", [])]
                        + ([dict(shipment)] if line["mp_line_number"] == mp_line_number else []),
                        list(line.get("cancellations", [])),
                    )
                    for line in lines
                ],
            )
            fulfillment.apply(order, request)

    def refund(self, order_id: str, info: JSON) -> tuple[JSON, JSON]:
        """Create a refund of one order line; ``cp_refund_number`` is unique across refunds."""
        with self._lock:
            order = self._order_or_404(order_id)
            line = next(
                (
                    line
                    for line in order["order_info"]["order_lines"]
                    if line["mp_line_number"] == info["mp_line_number"]
                ),
                None,
            )
            if line is None:
                number = info["mp_line_number"]
                raise Rejected(400, f"refund_info.mp_line_number {number} is not in this order")
            if info.get("refund_quantity", 0) > line["quantity"]:
                raise Rejected(400, "refund_info.refund_quantity exceeds the ordered quantity")
            if info["cp_refund_number"] in self._refund_by_cp_number:
                raise Rejected(409, "duplicate cp_refund_number")
            self._last_refund_id += 1
            refund_id = str(self._last_refund_id)
            refund = {
                "id": refund_id,
                "order_id": order_id,
                "state": "CREATED",
                "refund_info": _snapshot(info),
            }
            self._refunds[refund_id] = refund
            self._refund_by_cp_number[info["cp_refund_number"]] = refund_id
            effect = {
                "kind": "refund",
                "order_id": order_id,
                "cp_refund_number": info["cp_refund_number"],
                "refund_id": refund_id,
                "mp_line_number": info["mp_line_number"],
            }
            return _snapshot(refund), effect

    def search_returns(self, query: ReturnQuery, paging: PageRequest) -> Page[JSON]:
        """A page of the returns that match every given filter (time bounds are half-open:
        ``after`` inclusive, ``before`` exclusive)."""
        with self._lock:
            matching = [r for r in self._returns.values() if _matches(r, query)]
            page = paginate(
                matching,
                lambda record: int(record.data["id"]),
                limit=paging.limit,
                cursor=paging.cursor,
                offset_mode=paging.offset_mode,
                end_of_pages=paging.end_of_pages,
                stuck=paging.stuck,
            )
            shown = [self._served("return", _snapshot(r.data)) for r in page.items]
            return Page(shown, page.next_cursor)

    def get_return(self, return_id: str) -> Any:
        with self._lock:
            return self._served("return", _snapshot(self._return_or_404(return_id).data))

    def authorize_return(self, return_id: str, number: str) -> tuple[JSON, JSON]:
        """Pending Authorization → Pending Shipping with the seller's unique RMA number."""
        with self._lock:
            record = self._return_or_404(return_id)
            state = record.data["state"]
            if state != "Pending Authorization":
                raise Rejected(
                    400, f"return is {state}; only a return Pending Authorization can be authorized"
                )
            if number in self._return_by_merchant_number:
                raise Rejected(409, "duplicate merchant_return_number")
            record.data["state"] = "Pending Shipping"
            record.data["return_info"]["merchant_return_number"] = number
            self._return_by_merchant_number[number] = return_id
            self._touch(record)
            effect = {
                "kind": "authorize_return",
                "return_id": return_id,
                "merchant_return_number": number,
            }
            return _snapshot(record.data), effect

    def refund_return(
        self, return_id: str, line_ids: list[str], *, by_line_number: bool = False
    ) -> tuple[JSON, JSON]:
        """Refund return lines in full; the return is Merchant Refunded once all lines are.

        A line already refunded is a 409 even when the return is closed by now, so a client
        retrying after an unknown outcome can tell "already done" from "not allowed". With
        ``by_line_number`` (return lines shown without ids), a line is also known by its
        ``mp_return_line_number`` in ``feedamp_return_line_id``, the one name a client has.
        """
        with self._lock:
            record = self._return_or_404(return_id)
            return_lines = record.data["return_info"]["return_lines"]
            lines = {line["feedamp_return_line_id"]: line for line in return_lines}
            if by_line_number:
                lines |= {line["mp_return_line_number"]: line for line in return_lines}
            unknown = [line_id for line_id in line_ids if line_id not in lines]
            if unknown:
                raise Rejected(400, f"feedamp_return_line_id {unknown[0]} is not in this return")
            if any(lines[line_id]["merchant_refunded"] for line_id in line_ids):
                raise Rejected(409, "return line already refunded")
            state = record.data["state"]
            if state not in REFUNDABLE_RETURN_STATES:
                raise Rejected(
                    400, f"return is {state}; a refund needs Pending Refund or Pending Shipping"
                )
            for line_id in line_ids:
                lines[line_id]["merchant_refunded"] = True
            if all(line["merchant_refunded"] for line in lines.values()):
                record.data["state"] = "Merchant Refunded"
            self._touch(record)
            effect = {
                "kind": "refund_return",
                "return_id": return_id,
                "line_ids": list(line_ids),
                "state": record.data["state"],
            }
            return _snapshot(record.data), effect


def _snapshot(obj: JSON) -> JSON:
    """A deep copy of a JSON object; three times faster than ``copy.deepcopy`` on big pages."""
    return {key: _copy(item) for key, item in obj.items()}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return _snapshot(value)
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _matches(record: _Return, query: ReturnQuery) -> bool:
    data = record.data
    bounds = (
        (query.created_after, record.created, True),
        (query.created_before, record.created, False),
        (query.refreshed_after, record.refreshed, True),
        (query.refreshed_before, record.refreshed, False),
    )
    for bound, value, is_after in bounds:
        if bound is not None and (value < bound if is_after else value >= bound):
            return False
    if query.states is not None and data["state"] not in query.states:
        return False
    info = data["return_info"]
    if (
        query.merchant_return_number is not None
        and info["merchant_return_number"] != query.merchant_return_number
    ):
        return False
    return query.marketplaces is None or bool(
        {data["integration_name"], info["marketplace_name"]} & query.marketplaces
    )
