"""A local fake of the FeedAMP Order Management API v1, for demos and tests.

``feedamp-sync sandbox`` serves it so a seller can try the daemon without credentials; the
test suite runs it in-process, injects faults, and asserts on its ledger of every effect::

    sandbox = Sandbox(username="demo", password="demo-password", client_id=1, seed=7)
    sandbox.add_orders(437)
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as server:
        ...  # point a client at server.base_url
    assert len(sandbox.effects("confirm")) == 437

Where the FeedAMP docs leave a behaviour open, the sandbox's choice follows the table in
``docs/feedamp-api.md`` and is labelled as the sandbox's own in the module that implements it.
"""

from feedamp_sync.sandbox.app import Sandbox
from feedamp_sync.sandbox.faults import Faults
from feedamp_sync.sandbox.ledger import LedgerEntry
from feedamp_sync.sandbox.receiver import WebhookReceiver
from feedamp_sync.sandbox.server import SandboxServer
from feedamp_sync.sandbox.vocab import ENDPOINTS, RETURN_STATES
from feedamp_sync.sandbox.wire import Verbatim

__all__ = [
    "ENDPOINTS",
    "RETURN_STATES",
    "Faults",
    "LedgerEntry",
    "Sandbox",
    "SandboxServer",
    "Verbatim",
    "WebhookReceiver",
]
