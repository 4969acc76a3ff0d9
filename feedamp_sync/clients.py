"""An account's settings as its API client's configuration.

The one place the settings model meets :mod:`feedamp_sync.feedamp`: the daemon (``app``) and
``check`` (``ops.preflight``) build their clients from it, and the client package knows nothing
of the settings.
"""

from __future__ import annotations

from feedamp_sync.feedamp.config import ClientConfig, EndpointPaths
from feedamp_sync.settings import AccountSettings, ApiSettings, RefreshSettings


def client_config(
    account: AccountSettings, api: ApiSettings, refresh: RefreshSettings | None = None
) -> ClientConfig:
    return ClientConfig(
        account=account.name,
        base_url=account.base_url,
        username=account.username,
        client_id=account.client_id,
        paths=EndpointPaths(**account.paths.model_dump()),
        token_max_age_seconds=account.token_max_age_seconds,
        timeout_seconds=api.timeout_seconds,
        connect_timeout_seconds=api.connect_timeout_seconds,
        page_size=api.page_size,
        list_rate_per_second=api.list_rate_per_second,
        rate_per_second=api.rate_per_second,
        get_attempts=api.get_attempts,
        refresh_rate_per_second=(refresh or RefreshSettings()).rate_per_second,
        include_raw=account.include_raw,
        marketplace_fulfilled=account.marketplace_fulfilled,
    )
