"""What an outbox kind is: everything the daemon asks about one kind of message.

Each kind's module declares one :class:`Kind`: the shape of its payload, what the stored
order or return must allow, what it sends, the unique number it carries, and how it is
delivered and reconciled with FeedAMP. :mod:`feedamp_sync.outbox.kinds` lists them; the
queue, enqueue, preparation, the engine and the CLI read that list, so a new kind is one new
module and one line there (and its endpoint in the client).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from feedamp_sync.core.facts import Facts, Target
from feedamp_sync.model import OutboxMessage
from feedamp_sync.outbox.delivery import Delivered
from feedamp_sync.outbox.fields import Shape
from feedamp_sync.settings import OutboxSettings

Json = dict[str, Any]


class Plan(Protocol):
    """What a handler sends, decided in the claiming thread from the payload and the stored
    facts, so handlers on worker threads only talk to FeedAMP."""

    @property
    def request(self) -> Any:
        """The body sent, kept on the attempt's record even when the attempt fails."""


ShapeCheck = type[Shape]
"""The kind's payload model: refuses with every problem by path; normalises and warns."""
StoredCheck = Callable[[Json, Facts], list[str]]
"""What is wrong with a well-formed payload given the stored order or return (never None)."""
Planner = Callable[[Json, Facts], Plan]
Deliver = Callable[[Any, OutboxMessage], Delivered]
"""Makes the action take effect once; raises ApiError or ActionConflict otherwise. It is
handed the *channel* of the message's lane (its ``account``): the account's
:class:`~feedamp_sync.feedamp.client.FeedampClient` for the FeedAMP kinds, a
:class:`~feedamp_sync.outbox.webhook.WebhookChannel` for a webhook sink's lane."""


@dataclass(frozen=True)
class NumberSource:
    """What a generated number may be rendered from."""

    message_id: int
    database: str
    """This database's identity (``feedamp_meta``): no two databases render one number."""
    account: str
    target_id: str
    payload: Mapping[str, Any]
    facts: Facts


@dataclass(frozen=True)
class NumberRule:
    """A seller number unique in FeedAMP that the kind's payload carries in ``field``.

    Given in the payload, or rendered from the configured ``template`` with ``fields``; a
    field whose value is None is one the stored data lacks, and a template that names it
    is refused.
    """

    field: str
    template: Callable[[OutboxSettings], str]
    fields: Callable[[NumberSource], Mapping[str, Any]]


@dataclass(frozen=True)
class Kind:
    """One kind of outbox message.

    ``cli_name`` is None for the daemon's own kinds (a seller cannot enqueue them).
    ``builds_on_earlier`` asks for the earlier messages of the kind with the facts (a
    fulfillment is sent as the union of its predecessors and itself). ``records_events``
    False: the kind's results are no events (a webhook's: its event would be delivered again).
    """

    name: str
    target: Target
    deliver: Deliver
    check: ShapeCheck | None = None
    cli_name: str | None = None
    summary: str = ""
    check_stored: StoredCheck | None = None
    plan: Planner | None = None
    number: NumberRule | None = None
    builds_on_earlier: bool = False
    records_events: bool = True

    @property
    def needs_facts(self) -> bool:
        """Whether preparing a message of this kind reads the stored order or return."""
        return self.check_stored is not None or self.plan is not None or self.number is not None


def planned_request(plan: Plan | None, payload: Any) -> Any:
    """The body an attempt sends: a planned kind's plan, else its payload as is."""
    return plan.request if plan is not None else payload
