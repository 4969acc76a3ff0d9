"""What a client is built from: plain values, so this package does not know the settings model.

The composition edge translates the settings into these values
(:func:`feedamp_sync.clients.client_config`), as it hands the database engine factory a URL.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EndpointPaths:
    """Each endpoint's path template; ids go in as ``{order_id}`` and ``{return_id}``."""

    get_token: str
    new_orders: str
    order: str
    confirm: str
    fulfill: str
    refund: str
    returns: str
    return_: str
    authorize_return: str
    refund_return: str


@dataclass(frozen=True)
class ClientConfig:
    """One account at FeedAMP, and how politely its client asks."""

    account: str
    base_url: str
    username: str
    client_id: int
    paths: EndpointPaths
    token_max_age_seconds: float | None
    """Renew a token before it gets this old; None keeps it until FeedAMP refuses it."""
    timeout_seconds: float
    """One attempt's timeout; a whole call, retries included, gets twice as long."""
    connect_timeout_seconds: float
    page_size: int
    list_rate_per_second: float
    """Requests a second for get new orders and search returns."""
    rate_per_second: float
    """Requests a second for every other call, get_token included."""
    get_attempts: int
    """Attempts of one request inside a call (see the client's retry rules)."""
    refresh_rate_per_second: float = 1.0
    """Requests a second for re-reading stored orders (``refresh_order``), a budget of its own."""
    include_raw: bool = False
    """Ask for the marketplace's raw data with every order read."""
    marketplace_fulfilled: bool | None = None
    """Only (True) or never (False) marketplace-fulfilled orders in "get new orders"; None: all."""
