"""What ``orders fetch`` and ``returns fetch`` share: one account's client, built as the
daemon builds it, for a one-off read an operator asks for."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click

from feedamp_sync.clients import client_config
from feedamp_sync.feedamp.client import FeedampClient
from feedamp_sync.logs import register_secret
from feedamp_sync.settings import AccountSettings, Settings


def chosen_account(settings: Settings, name: str | None) -> AccountSettings:
    """The named account, or the only one; a usage error otherwise."""
    if name is None:
        if len(settings.accounts) > 1:
            names = ", ".join(a.name for a in settings.accounts)
            raise click.UsageError(f"several accounts are configured ({names}): give --account")
        return settings.accounts[0]
    try:
        return settings.account(name)
    except KeyError:
        raise click.UsageError(f"no account named {name!r} is configured") from None


@contextmanager
def account_client(settings: Settings, account: AccountSettings) -> Iterator[FeedampClient]:
    password = account.secret_password(os.environ)
    register_secret(password.get_secret_value())
    with FeedampClient(client_config(account, settings.api, settings.refresh), password) as client:
        yield client
