"""Keeping stored orders current after confirm: the refresh job, and one-off reads.

An order leaves "get new orders" once confirmed, so without this its local copy would stay
as it was at confirm while the customer cancels on the marketplace. Each account's refresh
pass re-reads the open orders (not final, see ``order_states``; purchased within
``max_age_days``) whose copy is older than ``every_seconds``, oldest copy first, with GET
order on the client's refresh budget, and stores each as the poller does, every change of
its states recorded as an order event in the same transaction. A pass reads at most what its
budget allows in one interval of the job, so it ends before the next is due; the rest wait,
oldest first, for the next pass.

One bad order never stops the others: an order FeedAMP refuses (404) or answers for with a
body that cannot be used is logged and put at the back of the queue; one that cannot be
stored as received is quarantined as the poller quarantines it. A FeedAMP that does not
answer, or refuses the credentials, ends the pass: the next one starts from the same orders.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import structlog

from feedamp_sync.db.orders import OrderRead, OrderStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.errors import ApiRejected, ApiResponseInvalid, Unstorable
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.jobs import order_numbering
from feedamp_sync.model import order_record, return_record
from feedamp_sync.order_states import is_cancelled
from feedamp_sync.quarantine import Held, held
from feedamp_sync.settings import ConfirmSettings, RefreshSettings

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]

REFRESH_JOB: Final = "refresh"


@dataclass
class OrdersRefreshed:
    due: int = 0
    read: int = 0
    changed: int = 0
    state_changes: int = 0
    cancelled: int = 0
    unreadable: int = 0
    quarantined: int = 0


def pass_size(refresh: RefreshSettings, interval_seconds: float) -> int:
    """Orders one pass reads at most: what the refresh budget allows in one job interval."""
    return max(1, math.floor(refresh.rate_per_second * interval_seconds))


def refresh_orders(
    client: FeedampClient,
    store: OrderStore,
    quarantine: QuarantineStore,
    refresh: RefreshSettings,
    *,
    limit: int,
    clock: Clock,
    stop: threading.Event,
) -> OrdersRefreshed:
    """Re-read and store up to ``limit`` of the account's due orders, oldest copy first."""
    account = client.account_name
    now = clock()
    due = store.due_for_refresh(
        account,
        read_before=now - timedelta(seconds=refresh.every_seconds),
        purchased_after=now - timedelta(days=refresh.max_age_days),
        limit=limit,
    )
    refreshed = OrdersRefreshed(due=len(due))
    for feedamp_id in due:
        if stop.is_set():
            break
        try:
            stored = read_order(
                client, store, quarantine, feedamp_id, clock=clock, source="refresh"
            )
        except (ApiRejected, ApiResponseInvalid) as error:
            log.warning("order_refresh_failed", feedamp_id=feedamp_id, error=str(error))
            store.mark_read(account, feedamp_id, clock())
            refreshed.unreadable += 1
            continue
        if stored is None:
            refreshed.quarantined += 1
            continue
        refreshed.read += 1
        refreshed.changed += stored.changed
        refreshed.state_changes += len(stored.changes)
        refreshed.cancelled += any(
            change.to_value is not None and is_cancelled(change.to_value, None)
            for change in stored.changes
        )
    return refreshed


def read_order(
    client: FeedampClient,
    store: OrderStore,
    quarantine: QuarantineStore,
    feedamp_id: str,
    *,
    clock: Clock,
    source: str,
    confirm: ConfirmSettings | None = None,
) -> OrderRead | None:
    """GET one order (on the refresh budget) and store it, ``source`` naming why in its
    events; with ``confirm``, a new unconfirmed order gets its number and confirm message.
    None when it was quarantined instead. FeedAMP's refusal or an unusable answer is raised."""
    account = client.account_name
    order = client.refresh_order(feedamp_id)
    now = clock()
    try:
        record = order_record(order)
    except Unstorable as refused:
        _quarantine(quarantine, store, account, feedamp_id, held(order, str(refused)), now)
        return None
    template = (confirm or ConfirmSettings()).cp_order_number_template
    stored = store.save_read(
        account,
        record,
        now=now,
        source=source,
        number_for=order_numbering(template, account),
        confirm=confirm is not None and confirm.enabled,
    )
    if stored.refused is not None:
        _quarantine(quarantine, store, account, feedamp_id, held(order, stored.refused), now)
        return None
    quarantine.settle(
        account, "order", [], stored_ids=[record.feedamp_id], page_cursor=None, now=now
    )
    if stored.changes:
        log.info(
            "order_changed",
            feedamp_id=feedamp_id,
            source=source,
            changes=[f"{c.field}: {c.from_value} -> {c.to_value}" for c in stored.changes],
        )
    return stored


def read_return(
    client: FeedampClient,
    store: ReturnStore,
    quarantine: QuarantineStore,
    return_id: str,
    *,
    clock: Clock,
) -> bool:
    """GET one return and store it as the returns poll does; False when it was quarantined."""
    account = client.account_name
    returned = client.get_return(return_id)
    now = clock()
    try:
        record = return_record(returned)
        saved = store.save_page(account, [record], now=now)
    except Unstorable as refused:
        reason = str(refused)
    else:
        if not saved.refused:
            quarantine.settle(
                account, "return", [], stored_ids=[record.feedamp_id], page_cursor=None, now=now
            )
            return True
        reason = saved.refused[0][1]
    entry = held(returned, reason)
    log.warning("return_quarantined", feedamp_id=entry.feedamp_id, reason=entry.reason)
    quarantine.settle(account, "return", [entry], stored_ids=[], page_cursor=None, now=now)
    return False


def _quarantine(
    quarantine: QuarantineStore,
    store: OrderStore,
    account: str,
    feedamp_id: str,
    entry: Held,
    now: datetime,
) -> None:
    """Hold an order that cannot be stored, and put it at the back of the refresh queue."""
    log.warning("order_quarantined", feedamp_id=entry.feedamp_id, reason=entry.reason)
    quarantine.settle(account, "order", [entry], stored_ids=[], page_cursor=None, now=now)
    store.mark_read(account, feedamp_id, now)
