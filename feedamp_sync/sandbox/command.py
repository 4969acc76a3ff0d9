"""``feedamp-sync sandbox``: serve a fake FeedAMP API until SIGINT/SIGTERM.

It lets a seller try the daemon without FeedAMP credentials, and the end-to-end tests run it as
a separate process. Because its credentials are fixed demo values and its ``/_sandbox/`` control
endpoints need none at all, it listens on a loopback address only, unless ``--allow-remote``.
"""

from __future__ import annotations

import ipaddress
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from feedamp_sync.sandbox.app import Sandbox
from feedamp_sync.sandbox.faults import Faults
from feedamp_sync.sandbox.receiver import WebhookReceiver
from feedamp_sync.sandbox.server import SandboxServer
from feedamp_sync.settings import webhook_secret_key

_PROBABILITY = click.FloatRange(0.0, 1.0)
_POSITIVE_SECONDS = click.FloatRange(min=0.0, min_open=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8808, show_default=True,
              help="Port to listen on (0 picks a free one).")  # fmt: skip
@click.option("--orders", "order_count", type=click.IntRange(0, 10_000), default=25,
              show_default=True, help="New orders to generate at start.")  # fmt: skip
@click.option("--returns", "return_count", type=click.IntRange(0, 10_000), default=10,
              show_default=True, help="Returns to generate at start.")  # fmt: skip
@click.option("--seed", type=int, default=None, help="Seed for generated data and faults.")
@click.option("--username", default="demo", show_default=True)
@click.option("--password", default="demo-password", show_default=True)
@click.option("--client-id", type=int, default=1, show_default=True)
@click.option("--token-ttl", type=_POSITIVE_SECONDS, default=3600.0, show_default=True,
              help="Seconds a token stays valid.")  # fmt: skip
@click.option("--new-orders-every", type=_POSITIVE_SECONDS, default=None, metavar="SECONDS",
              help="Keep adding 1-3 new orders this often, so orders keep arriving.")  # fmt: skip
@click.option("--fault-5xx", type=_PROBABILITY, default=0.0, help="Chance of a 500/502/503.")
@click.option("--fault-429", type=_PROBABILITY, default=0.0, help="Chance of a 429.")
@click.option("--fault-slow", type=_PROBABILITY, default=0.0, help="Chance of a slow answer.")
@click.option("--slow-seconds", type=click.FloatRange(min=0.0), default=2.0, show_default=True,
              help="How slow a slow answer is.")  # fmt: skip
@click.option("--fault-drip", type=_PROBABILITY, default=0.0,
              help="Chance of sending the body one byte at a time.")  # fmt: skip
@click.option("--drip-seconds", type=click.FloatRange(min=0.0), default=1.0, show_default=True,
              help="Time between the bytes of a dripped body.")  # fmt: skip
@click.option("--fault-drop", type=_PROBABILITY, default=0.0,
              help="Chance of closing the connection without an answer.")  # fmt: skip
@click.option("--fault-apply-then-fail", type=_PROBABILITY, default=0.0,
              help="Chance of applying a request, then failing it.")  # fmt: skip
@click.option("--token-expiry-requests", type=click.IntRange(min=1), default=None,
              help="Each token expires after this many requests.")  # fmt: skip
@click.option("--cancel-after-confirm", type=_PROBABILITY, default=0.0,
              help="Chance that a confirmed order is found cancelled on the marketplace "
              "when next read.")  # fmt: skip
@click.option("--webhook-secret", default=None, metavar="WHSEC",
              help="Also receive webhooks signed with this secret (whsec_ + base64): each "
              "delivery's signature is checked and the accepted events are listed at "
              "GET /received.")  # fmt: skip
@click.option("--webhook-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port of the webhook receiver (0 picks a free one).")  # fmt: skip
@click.option("--allow-remote", is_flag=True,
              help="Allow a non-loopback --host (the credentials are public).")  # fmt: skip
@click.option("--log-requests", is_flag=True, help="Log every request to stderr.")
def sandbox(
    host: str,
    port: int,
    order_count: int,
    return_count: int,
    seed: int | None,
    username: str,
    password: str,
    client_id: int,
    token_ttl: float,
    new_orders_every: float | None,
    fault_5xx: float,
    fault_429: float,
    fault_slow: float,
    slow_seconds: float,
    fault_drip: float,
    drip_seconds: float,
    fault_drop: float,
    fault_apply_then_fail: float,
    token_expiry_requests: int | None,
    cancel_after_confirm: float,
    webhook_secret: str | None,
    webhook_port: int,
    allow_remote: bool,
    log_requests: bool,
) -> None:
    """Serve a local fake FeedAMP API with generated orders and returns."""
    if not allow_remote and not _is_loopback(host):
        raise click.UsageError(
            f"--host {host} is not a loopback address; the sandbox has fixed demo credentials "
            "and unauthenticated control endpoints. Pass --allow-remote to serve it anyway."
        )
    faults = Faults(
        error_5xx=fault_5xx,
        rate_limited=fault_429,
        slow=fault_slow,
        slow_seconds=slow_seconds,
        drip=fault_drip,
        drip_seconds=drip_seconds,
        drop=fault_drop,
        apply_then_fail=fault_apply_then_fail,
        token_expiry_requests=token_expiry_requests,
    )
    world = Sandbox(
        username=username,
        password=password,
        client_id=client_id,
        seed=seed,
        token_ttl_seconds=token_ttl,
        faults=faults,
        cancel_after_confirm=cancel_after_confirm,
    )
    world.add_orders(order_count)
    if return_count:
        world.add_returns(return_count)
    try:
        server = SandboxServer(world, host, port, log_requests=log_requests)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with server, _receiver(webhook_secret, host, webhook_port) as receiver:
            click.echo(
                f"feedamp-sync sandbox: base_url={server.base_url} username={username} "
                f"password={password} client_id={client_id} (seed {world.seed}; "
                "Ctrl-C to stop)"
            )
            if receiver is not None:
                click.echo(f"feedamp-sync sandbox: webhook receiver url={receiver.url}")
            _serve_until(stop, world, new_orders_every)
            if receiver is not None:
                click.echo(_received(receiver))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _receiver(secret: str | None, host: str, port: int) -> Iterator[WebhookReceiver | None]:
    """The webhook receiver the options ask for, serving for the block, or None."""
    if secret is None:
        yield None
        return
    try:
        webhook_secret_key(secret)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--webhook-secret") from None
    try:
        receiver = WebhookReceiver(secret, host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    with receiver:
        yield receiver


def _received(receiver: WebhookReceiver) -> str:
    """What the receiver took, by event type, and how many deliveries it refused as forged."""
    types = Counter(str(event.get("type")) for event in receiver.inbox.events())
    shown = ", ".join(f"{name}={count}" for name, count in sorted(types.items())) or "none"
    return (
        f"feedamp-sync sandbox: webhooks received: {shown}; bad signatures: {receiver.inbox.forged}"
    )


def _serve_until(stop: threading.Event, world: Sandbox, new_orders_every: float | None) -> None:
    """Wait for a stop signal, adding a few orders every ``new_orders_every`` seconds."""
    rng = random.Random(world.seed)
    next_batch = time.monotonic() + (new_orders_every or 0.0)
    while not stop.wait(0.2):
        if new_orders_every is not None and time.monotonic() >= next_batch:
            world.add_orders(rng.randint(1, 3))
            next_batch += new_orders_every
