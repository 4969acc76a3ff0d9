"""The Sandbox: a fake FeedAMP v1 account with a ledger, faults, and a Python API for tests.

:meth:`Sandbox.serve` is the whole request path short of sockets: ledger bookkeeping, fault
injection, and the API. ``server.py`` feeds it parsed requests and writes (or withholds) the
answer; tests use the other methods to build the world and to read what happened.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from feedamp_sync.sandbox.api import Api, Outcome
from feedamp_sync.sandbox.auth import TokenBook
from feedamp_sync.sandbox.faults import FaultInjector, Faults
from feedamp_sync.sandbox.ledger import Ledger, LedgerEntry
from feedamp_sync.sandbox.state import World
from feedamp_sync.sandbox.wire import JSON, Request, Response, error_response

Wait = Callable[[float], bool]
"""Sleep for some seconds; False if the server is stopping and the request should be dropped."""


class Sandbox:
    """One fake FeedAMP client account: credentials, orders, returns, faults, ledger.

    ``seed`` makes the generated data and the fault dice reproducible (a random seed is picked
    when None). ``clock`` (seconds since the epoch) drives token ages, generated dates,
    ``refreshed_at`` and the ledger's ``at``; tests may pass a fake one.
    ``cancel_after_confirm`` is the chance that a confirmed order is found cancelled on the
    marketplace when it is next read (decided once per order). Order ids ascend from above
    ``order_ids_from``: accounts served side by side keep theirs apart, as FeedAMP's ids are.
    """

    def __init__(
        self,
        *,
        username: str = "demo",
        password: str = "demo-password",
        client_id: int = 1,
        seed: int | None = None,
        token_ttl_seconds: float = 3600.0,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
        cancel_after_confirm: float = 0.0,
        order_ids_from: int = 10_000,
    ) -> None:
        self.seed = random.randrange(2**32) if seed is None else seed
        self._clock = clock
        self._world = World(
            seed=self.seed,
            clock=clock,
            cancel_after_confirm=cancel_after_confirm,
            order_ids_from=order_ids_from,
        )
        self._tokens = TokenBook(
            username=username,
            password=password,
            client_id=client_id,
            ttl_seconds=token_ttl_seconds,
            clock=clock,
        )
        self._faults = FaultInjector(faults or Faults(), self.seed)
        self._ledger = Ledger()
        self._api = Api(self._world, self._tokens)

    @property
    def username(self) -> str:
        return self._tokens.username

    @property
    def password(self) -> str:
        return self._tokens.password

    @property
    def client_id(self) -> int:
        return self._tokens.client_id

    # -- serving ------------------------------------------------------------------------------

    def serve(self, request: Request, wait: Wait) -> Response | None:
        """Answer one API request; None means "drop the connection without a response".

        The ledger entry is recorded before returning, i.e. before the client can see the
        outcome. A ``slow`` request is handled after the wait, so its effect lands late.
        """
        seq = self._ledger.next_seq()
        at = self._clock()
        route = self._api.resolve(request.method, request.path)
        faults, decision = self._faults.decide(route.endpoint)

        def record(status: int | None, outcome: Outcome | None = None) -> None:
            self._ledger.record(
                LedgerEntry(
                    seq=seq,
                    at=at,
                    method=request.method,
                    path=request.path,
                    query=request.raw_query,
                    endpoint=route.endpoint,
                    status=status,
                    fault=decision.name or (outcome.fault if outcome else None),
                    naive_timestamp=bool(outcome and outcome.naive_timestamp),
                    effect=outcome.effect if outcome else None,
                )
            )

        if decision.name == "drop":
            record(None)
            return None
        if decision.name == "error_5xx":
            status = decision.status or 500
            record(status)
            return error_response(status, "sandbox fault: server error")
        if decision.name == "rate_limited":
            record(429)
            retry_after = str(faults.retry_after_seconds)
            return error_response(429, "rate limit exceeded", (("Retry-After", retry_after),))
        if decision.name == "slow" and not wait(faults.slow_seconds):
            record(None)
            return None
        outcome = self._api.handle(route, request, faults)
        if decision.name == "apply_then_fail":
            record(decision.status, outcome)
            if decision.status is None:
                return None
            return error_response(decision.status, "sandbox fault: server error after applying")
        record(outcome.response.status, outcome)
        if decision.name == "drip":
            return dataclasses.replace(outcome.response, drip_seconds=faults.drip_seconds)
        return outcome.response

    # -- faults -------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults.faults

    def set_faults(self, faults: Faults | None = None, /, **changes: Any) -> Faults:
        """Replace the fault configuration, or change some fields of the current one.

        ``set_faults(Faults(drop=0.1))`` replaces everything; ``set_faults(drop=0.1)`` keeps
        the other fields; ``set_faults(Faults())`` turns every fault off.
        """
        new = dataclasses.replace(faults or self._faults.faults, **changes)
        self._faults.set(new)
        return new

    # -- the world ----------------------------------------------------------------------------

    def add_orders(self, count: int) -> list[str]:
        """Generate ``count`` new unconfirmed orders; returns their ids."""
        return self._world.add_orders(count)

    def serve_order_as(self, order_id: str, mangle: Callable[[JSON], Any] | None) -> None:
        """Serve order ``order_id`` as ``mangle`` makes it (None: as it is)."""
        self._world.serve_as("order", order_id, mangle)

    def answer_as(self, order_id: str, mangle: Callable[[JSON], Any] | None) -> None:
        """Answer each action on order ``order_id`` (confirm, fulfill, refund) with what
        ``mangle`` makes of the answer, while the action takes effect as usual (None: as it
        is); an answer holding a NUL, say."""
        self._world.serve_as("answer", order_id, mangle)

    def enter_shipment(self, order_id: str, mp_line_number: str, shipment: JSON) -> None:
        """Add a shipment as if typed into FeedAMP's UI (no API request, no ledger entry)."""
        self._world.enter_shipment(order_id, mp_line_number, shipment)

    def serve_return_as(self, return_id: str, mangle: Callable[[JSON], Any] | None) -> None:
        """Serve return ``return_id`` as ``mangle`` makes it (None: as it is)."""
        self._world.serve_as("return", return_id, mangle)

    def add_returns(self, count: int, states: Sequence[str] | None = None) -> list[str]:
        """Generate ``count`` returns of existing orders (state ``states[i % len]`` or random)."""
        return self._world.add_returns(count, states)

    def order(self, order_id: str) -> JSON:
        """A copy of an order as GET order would show it; KeyError if unknown."""
        return self._world.order(order_id)

    def return_(self, return_id: str) -> JSON:
        """A copy of a return; KeyError if unknown."""
        return self._world.return_(return_id)

    def set_order_state(
        self, order_id: str, state: str, marketplace_state: str | None = None
    ) -> None:
        """Change an order's state after confirm, as FeedAMP or the marketplace does; a
        customer's cancellation is ``set_order_state(id, "CANCELLED", "CANCELLED")``."""
        self._world.set_order_state(order_id, state, marketplace_state)

    def set_return_state(self, return_id: str, state: str) -> None:
        """Move a return to another state, as the marketplace does (updates ``refreshed_at``)."""
        self._world.set_return_state(return_id, state)

    def confirmed_orders(self) -> dict[str, str]:
        """Order id → ``cp_order_number`` for every confirmed order."""
        return self._world.confirmed_orders()

    def unconfirmed_orders(self) -> list[str]:
        """Ids of the orders still listed by "get new orders"."""
        return self._world.unconfirmed_orders()

    # -- what happened ------------------------------------------------------------------------

    def ledger(self, endpoint: str | None = None) -> list[LedgerEntry]:
        """Every finished API request in arrival order (optionally of one endpoint)."""
        return self._ledger.entries(endpoint)

    def effects(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The effects of API requests in arrival order (optionally of one kind)."""
        return self._ledger.effects(kind)

    def requests_in_progress(self) -> int:
        """API requests being served now, e.g. a ``slow`` one during its wait."""
        return self._ledger.in_progress()

    def issued_tokens(self) -> list[str]:
        """Every token issued so far, expired ones included."""
        return list(self._tokens.issued_values)

    def summary(self) -> JSON:
        """The counters: world contents, requests by endpoint/status/fault, effects, tokens."""
        return self._world.summary() | {
            "ledger": self._ledger.counts(),
            "tokens_issued": self._tokens.issued,
        }
