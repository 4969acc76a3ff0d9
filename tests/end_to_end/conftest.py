"""Fixtures: a sandbox FeedAMP served on 127.0.0.1 for the daemon under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedamp_sync.sandbox import Sandbox, SandboxServer
from tests.end_to_end.harness import PRINTED, new_sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox; afterwards, none of its tokens may appear in anything printed."""
    PRINTED.clear()
    world = new_sandbox()
    yield world
    leaked = [token for token in world.issued_tokens() if any(token in text for text in PRINTED)]
    assert leaked == [], "an issued token appeared in the program's output"


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox, host="127.0.0.1", port=0) as running:
        yield running
