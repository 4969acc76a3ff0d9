"""An account's settings become its client's plain configuration."""

from __future__ import annotations

from feedamp_sync.clients import client_config
from feedamp_sync.settings import AccountSettings, ApiSettings

ACCOUNT = AccountSettings(
    name="main",
    base_url="https://feedamp.test",
    username="seller@example.com",
    client_id=1234,
    paths={"return": "/v2/returns/{return_id}"},
    token_max_age_seconds=300,
)


def test_the_account_reaches_the_client() -> None:
    """Name, address, user, client id and token age are the account's."""
    config = client_config(ACCOUNT, ApiSettings())
    assert (
        config.account,
        config.base_url,
        config.username,
        config.client_id,
        config.token_max_age_seconds,
    ) == ("main", "https://feedamp.test", "seller@example.com", 1234, 300)


def test_every_configured_path_reaches_the_client() -> None:
    """Each path setting, the aliased ``return`` among them, becomes the endpoint's template."""
    paths = client_config(ACCOUNT, ApiSettings()).paths
    assert paths.return_ == "/v2/returns/{return_id}"
    assert paths.confirm == "/api/v1/orders/{order_id}/confirm"


def test_the_api_limits_reach_the_client() -> None:
    """Timeouts, page size, rates and attempts are the api section's."""
    api = ApiSettings(
        list_rate_per_second=1,
        rate_per_second=3,
        timeout_seconds=20,
        connect_timeout_seconds=4,
        page_size=50,
        get_attempts=2,
    )
    config = client_config(ACCOUNT, api)
    assert (
        config.list_rate_per_second,
        config.rate_per_second,
        config.timeout_seconds,
        config.connect_timeout_seconds,
        config.page_size,
        config.get_attempts,
    ) == (1, 3, 20, 4, 50, 2)
