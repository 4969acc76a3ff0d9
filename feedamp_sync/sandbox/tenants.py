"""Several FeedAMP client accounts on one sandbox server, each under a path of its own.

FeedAMP serves every client account at one address and tells them apart by the ``client``
header; a daemon gives each account a client of its own either way. The sandbox serves each
extra account under ``/accounts/<name>`` instead, so an account is a whole :class:`Sandbox`
(its credentials, orders, faults and ledger) and its base URL is all a config needs:
``http://127.0.0.1:8808/accounts/shop-007``. Its control endpoints are under the same prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from feedamp_sync.sandbox.app import Sandbox

PREFIX: Final = "/accounts/"
ORDER_ID_SPAN: Final = 1_000_000
"""Order ids each generated account has to itself."""


def account_name(index: int) -> str:
    return f"shop-{index:03d}"


def generated(count: int, *, username: str, password: str, seed: int) -> dict[str, Sandbox]:
    """``count`` accounts named ``shop-000``...: client ids 1, 2, ..., each with its own
    seed and its own range of order ids, one username and password for all (a reseller's
    login with many client ids)."""
    return {
        account_name(index): Sandbox(
            username=username,
            password=password,
            client_id=index + 1,
            seed=seed + index,
            order_ids_from=(index + 1) * ORDER_ID_SPAN,
        )
        for index in range(count)
    }


def route(
    default: Sandbox, tenants: Mapping[str, Sandbox], path: str
) -> tuple[Sandbox, str] | None:
    """The sandbox a request path is for and the path within it; None for an unknown account."""
    if not path.startswith(PREFIX):
        return default, path
    name, _, rest = path.removeprefix(PREFIX).partition("/")
    tenant = tenants.get(name)
    if tenant is None:
        return None
    return tenant, "/" + rest
