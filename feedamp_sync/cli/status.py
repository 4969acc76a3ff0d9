"""``status``: what is stored and queued, and how each job last fared."""

from __future__ import annotations

import click

from feedamp_sync.app import open_database, retention_store
from feedamp_sync.cli.common import Context, iso, pass_context, to_json
from feedamp_sync.db.identity import database_identity_of
from feedamp_sync.db.orders import OrderStore
from feedamp_sync.db.outbox import OutboxStore
from feedamp_sync.db.quarantine import QuarantineStore
from feedamp_sync.db.retention import table_sizes
from feedamp_sync.db.returns import ReturnStore
from feedamp_sync.db.sync_state import GLOBAL_ACCOUNT, SyncStateStore
from feedamp_sync.outbox.kinds import KINDS


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def status(context: Context, as_json: bool) -> None:
    """Counts of orders, returns and outbox messages; last success/failure of each job; the
    size of each table and the oldest row retention will prune."""
    retention = context.settings.retention
    with open_database(context.settings) as engine:
        jobs = {}
        for row in SyncStateStore(engine).all():
            name = (
                row["job"] if row["account"] == GLOBAL_ACCOUNT else f"{row['job']}:{row['account']}"
            )
            jobs[name] = {
                "last_success": iso(row["last_success_at"]),
                "last_error": iso(row["last_error_at"]),
                "last_error_message": row["last_error"],
            }
        identity = database_identity_of(engine)
        sizes = table_sizes(engine)
        oldest = {
            table: {status: iso(at) for status, at in by_status.items()}
            for table, by_status in retention_store(engine).oldest_kept().items()
        }
        report = {
            "orders": OrderStore(engine).counts(),
            "returns": ReturnStore(engine).counts(),
            "outbox": OutboxStore(engine, KINDS.return_kinds).counts(),
            "quarantine": QuarantineStore(engine).open_counts(),
            "jobs": jobs,
            "database": {"identity": identity},
            "tables": sizes,
            "retention": {
                "enabled": retention.enabled,
                "keep_days": retention.keep_days,
                "oldest": oldest,
            },
        }
    if as_json:
        click.echo(to_json(report))
        return
    for section in ("orders", "returns", "outbox", "quarantine"):
        counts = report[section]
        assert isinstance(counts, dict)
        click.echo(f"{section:10} " + "  ".join(f"{k}={v}" for k, v in counts.items()))
    click.echo(f"{'database':10} identity={identity}")
    click.echo(f"{'tables':10} " + "  ".join(f"{k}={v}" for k, v in sizes.items()))
    pruned_by = "the daemon and db prune" if retention.enabled else "db prune only"
    click.echo(f"{'retention':10} keep_days={retention.keep_days} (pruned by {pruned_by})")
    for table, by_status in oldest.items():
        dates = "  ".join(f"{status}={at or 'none'}" for status, at in by_status.items())
        click.echo(f"{'':10} oldest in {table}: {dates}")
    for name, state in jobs.items():
        click.echo(
            f"job {name}: last success {state['last_success'] or 'never'}, "
            f"last error {state['last_error'] or 'never'}"
        )
