"""Fixtures: a sandbox FeedAMP served on 127.0.0.1 for the daemon under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import new_sandbox


@pytest.fixture
def sandbox() -> Sandbox:
    return new_sandbox()


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as running:
        yield running
