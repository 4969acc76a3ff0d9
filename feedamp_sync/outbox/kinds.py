"""Every outbox kind the daemon knows, in one list.

The queue, ``enqueue``, preparation, the engine, the metrics and the CLI all read this
registry; a new kind is a module declaring its :class:`~feedamp_sync.outbox.kind.Kind` plus
one line below.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final

from feedamp_sync.core.attempts import KIND_MAX_CHARS
from feedamp_sync.core.facts import Target
from feedamp_sync.errors import InvalidPayload
from feedamp_sync.outbox.confirm import CONFIRM
from feedamp_sync.outbox.fields import shown
from feedamp_sync.outbox.fulfillment import FULFILLMENT
from feedamp_sync.outbox.kind import Kind
from feedamp_sync.outbox.refund import REFUND
from feedamp_sync.outbox.return_authorization import RETURN_AUTHORIZATION
from feedamp_sync.outbox.return_refund import RETURN_REFUND
from feedamp_sync.outbox.webhook import WEBHOOK


class Kinds(Mapping[str, Kind]):
    """Kinds by name, in the order declared.

    Refuses at import what would fail later: a name the outbox's ``kind`` column cannot
    hold (SQLite would store it, PostgreSQL and MariaDB refuse every message of it), and two
    kinds one CLI name would choose between.
    """

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self._by_name: dict[str, Kind] = {}
        cli_names: set[str] = set()
        for kind in kinds:
            if kind.name in self._by_name:
                raise ValueError(f"outbox kind {kind.name!r} is declared twice")
            if not 0 < len(kind.name) <= KIND_MAX_CHARS:
                raise ValueError(
                    f"outbox kind {kind.name!r}: a name has 1 to {KIND_MAX_CHARS} characters"
                )
            if kind.cli_name is not None:
                if kind.cli_name in cli_names:
                    raise ValueError(
                        f"outbox kind {kind.name!r}: cli_name {kind.cli_name!r} is another "
                        "kind's already"
                    )
                cli_names.add(kind.cli_name)
            self._by_name[kind.name] = kind

    def __getitem__(self, name: str) -> Kind:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def with_kinds(self, *more: Kind) -> Kinds:
        """This registry and ``more``, for :func:`~feedamp_sync.app.build_app` and
        :func:`~feedamp_sync.outbox.enqueue.enqueue` (a test's own kind). The CLI
        (``enqueue``, ``outbox``, ``status``, ``orders show``) and the metrics read only
        :data:`KINDS`, so a kind the daemon ships is a line there, not an extension."""
        return Kinds([*self.values(), *more])

    @property
    def turn_order(self) -> tuple[str, ...]:
        """The kinds' names in the order they take turns inside an account: as declared."""
        return tuple(self._by_name)

    @property
    def seller(self) -> list[Kind]:
        """The kinds a seller may enqueue, in the order declared."""
        return [kind for kind in self.values() if kind.cli_name is not None]

    @property
    def return_kinds(self) -> tuple[str, ...]:
        """Names of the kinds about a return (each target type queues on its own)."""
        return tuple(name for name, kind in self.items() if kind.target is Target.RETURN)

    @property
    def quiet_kinds(self) -> tuple[str, ...]:
        """Names of the kinds whose results are no events in the log."""
        return tuple(name for name, kind in self.items() if not kind.records_events)

    @property
    def history_kinds(self) -> tuple[str, ...]:
        """Names of the kinds whose messages later ones of the same target build on."""
        return tuple(name for name, kind in self.items() if kind.builds_on_earlier)

    def seller_kind(self, name: str) -> Kind:
        """The seller kind called ``name``; InvalidPayload naming the choices otherwise."""
        kind = self._by_name.get(name)
        if kind is None or kind.cli_name is None:
            names = ", ".join(kind.name for kind in self.seller)
            raise InvalidPayload([f"kind: must be one of {names}, got {shown(name)}"])
        return kind

    def by_cli_name(self, cli_name: str) -> Kind:
        return next(kind for kind in self.seller if kind.cli_name == cli_name)


KINDS: Final = Kinds([FULFILLMENT, REFUND, RETURN_AUTHORIZATION, RETURN_REFUND, WEBHOOK, CONFIRM])
"""In turn order: when an account's rate budget is the limit, its kinds take turns, one
message each, in this order (see the README's "Who goes first"). ``webhook`` messages have
lanes of their own (a sink's), so its place here decides nothing."""
