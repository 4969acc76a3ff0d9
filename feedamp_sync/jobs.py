"""The scheduled jobs, each one bounded tick: read from an edge, decide, write to an edge.

``run`` schedules them; ``run --once`` calls each once. A tick records its start, success or
failure in the sync-state table, which ``status`` and the readiness check read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import structlog

from feedamp_sync.db.errors import describe
from feedamp_sync.db.orders import NumberFor, OrderStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.retention import RetentionStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import SyncStateStore
from feedamp_sync.errors import ApiResponseInvalid
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.feedamp.pagination import Page, read_ahead
from feedamp_sync.model import OrderRecord, ReturnRecord, order_record, return_record
from feedamp_sync.policy import seller_number
from feedamp_sync.quarantine import Held, split
from feedamp_sync.quarantine import held as quarantined
from feedamp_sync.retention import Pruned, cutoff
from feedamp_sync.returns_window import checkpoint_value, next_query, parse_checkpoint
from feedamp_sync.settings import ConfirmSettings, RetentionSettings

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")

ORDERS_JOB = "orders"
RETURNS_JOB = "returns"
OUTBOX_JOB = "outbox"
PRUNE_JOB = "prune"


@dataclass
class OrdersPulled:
    pages: int = 0
    orders: int = 0
    new: int = 0
    changed: int = 0
    confirms_enqueued: int = 0
    quarantined: int = 0


def pull_orders(
    client: FeedampClient,
    store: OrderStore,
    quarantine: QuarantineStore,
    confirm: ConfirmSettings,
    *,
    clock: Clock,
    stop: threading.Event,
) -> OrdersPulled:
    """Store every page of new orders; each new order gets its number and confirm message.

    One pass is never complete knowledge (the API's cursor may shift while orders are being
    confirmed), which is harmless: an unconfirmed order stays in "new orders" and the next
    pass takes it. An order that cannot be stored as received is quarantined instead, never
    confirmed, and looked at again by every pass until it can be stored.
    """
    account = client.account_name
    pulled = OrdersPulled()
    number_for = order_numbering(confirm.cp_order_number_template, account)
    for page in read_ahead(client.iter_new_orders(), stop):
        records, held = split(page.items, order_record)
        saved = store.save_page(
            account, records, now=clock(), number_for=number_for, confirm=confirm.enabled
        )
        stored, held_count = _settle(
            quarantine, account, "order", records, held, saved.refused, page, clock
        )
        pulled.pages += 1
        pulled.orders += stored
        pulled.quarantined += held_count
        pulled.new += saved.new
        pulled.changed += saved.changed
        pulled.confirms_enqueued += saved.confirms_enqueued
        skipped = sum(r.skipped_lines for r in records)
        if skipped:
            log.warning(
                "order_lines_without_number",
                count=skipped,
                hint="kept in the order JSON, not in feedamp_order_lines",
            )
        if stop.is_set():
            break
    return pulled


def order_numbering(template: str, account: str) -> NumberFor:
    """How a new order of ``account`` gets its ``cp_order_number`` from the template."""

    def number_for(row_id: int, record: OrderRecord) -> str:
        return seller_number(
            template,
            id=row_id,
            account=account,
            feedamp_id=record.feedamp_id,
            mp_order_number=record.mp_order_number or "",
            marketplace=record.marketplace or "",
        )

    return number_for


@dataclass
class ReturnsPulled:
    mode: str
    pages: int = 0
    returns: int = 0
    new: int = 0
    changed: int = 0
    state_changes: int = 0
    quarantined: int = 0
    complete: bool = False
    """Every page was stored and the checkpoint moved to this poll's start."""


def pull_returns(
    client: FeedampClient,
    store: ReturnStore,
    quarantine: QuarantineStore,
    state: SyncStateStore,
    *,
    overlap: timedelta,
    clock: Clock,
    stop: threading.Event,
) -> ReturnsPulled:
    """Store every page of the returns the checkpoint's window asks for (see returns_window).

    The new checkpoint is this poll's start, taken before the first request, and it is saved
    only once the last page is stored: a failure raises out with the old checkpoint in place,
    and a stop between pages leaves it too, so the next poll covers the same window again. A
    pass FeedAMP cuts short by repeating a cursor fails once its pages are stored, so the
    tick shows as failed in ``status`` and ``/readyz`` rather than as a success. A return
    that cannot be stored as received is quarantined and the checkpoint moves on without it:
    the poll that would see it again is the one after FeedAMP next refreshes it.
    """
    account = client.account_name
    started = clock()
    query = next_query(parse_checkpoint(state.checkpoint(account, RETURNS_JOB)), overlap)
    pulled = ReturnsPulled(mode=query.mode)
    pages = client.iter_returns(open=query.open, refreshed_after=query.refreshed_after)
    for page in read_ahead(pages, stop):
        records, held = split(page.items, return_record)
        saved = store.save_page(account, records, now=clock())
        stored, held_count = _settle(
            quarantine, account, "return", records, held, saved.refused, page, clock
        )
        pulled.pages += 1
        pulled.returns += stored
        pulled.quarantined += held_count
        pulled.new += saved.new
        pulled.changed += saved.changed
        pulled.state_changes += saved.state_changes
        skipped = sum(r.skipped_lines for r in records)
        if skipped:
            log.warning(
                "return_lines_without_number",
                count=skipped,
                hint="kept in the return JSON, not in feedamp_return_lines",
            )
        if page.cut_short:
            raise ApiResponseInvalid(
                "search_returns: FeedAMP handed back a cursor this poll had already followed "
                "(pagination_cursor_repeated) or a page of returns it had already read "
                "(pagination_no_progress); the returns after it were not read, so the "
                "checkpoint stays and the next poll asks for the same window"
            )
        if stop.is_set() and page.next_cursor is not None:
            return pulled
    state.succeeded(account, RETURNS_JOB, clock(), checkpoint=checkpoint_value(started))
    pulled.complete = True
    return pulled


def prune(
    store: RetentionStore,
    retention: RetentionSettings,
    *,
    keep_days: int,
    clock: Clock,
    stop: threading.Event,
) -> Pruned:
    """One retention pass: every finished row older than ``keep_days``, batch by batch, until
    none is left or ``stop`` is set."""
    return store.prune(cutoff(clock(), keep_days), batch_size=retention.batch_size, stop=stop)


def record_tick(
    state: SyncStateStore, account: str, job: str, clock: Clock, tick: Callable[[], T]
) -> T:
    """Run one tick, recording its start and its success or failure for ``status`` (a
    database error without the data it quotes: see ``db/errors``)."""
    state.started(account, job, clock())
    try:
        result = tick()
    except Exception as error:
        state.failed(account, job, clock(), describe(error))
        raise
    state.succeeded(account, job, clock())
    return result


def _settle(
    quarantine: QuarantineStore,
    account: str,
    kind: str,
    records: Sequence[OrderRecord | ReturnRecord],
    held: list[Held],
    refused: Sequence[tuple[OrderRecord | ReturnRecord, str]],
    page: Page,
    clock: Clock,
) -> tuple[int, int]:
    """Keep a page's held objects (those its parsing refused, and those the database refused)
    in quarantine, loudly, and resolve the ones it stored; returns (stored, held) counts."""
    held = held + [quarantined(record.data, why) for record, why in refused]
    refused_ids = {record.feedamp_id for record, _ in refused}
    stored = [record.feedamp_id for record in records if record.feedamp_id not in refused_ids]
    for item in held:
        log.warning(f"{kind}_quarantined", feedamp_id=item.feedamp_id, reason=item.reason)
    quarantine.settle(account, kind, held, stored_ids=stored, page_cursor=page.cursor, now=clock())
    return len(stored), len(held)
