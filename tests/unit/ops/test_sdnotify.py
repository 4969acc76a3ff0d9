"""The sd_notify helpers without a socket: the watchdog period and the no-op."""

from __future__ import annotations

import os

from feedamp_sync.ops.sdnotify import notify, watchdog_seconds


def test_no_notify_socket_means_nothing_is_sent() -> None:
    """Started by hand, the daemon notifies no one and goes on."""
    assert notify("READY=1", {}) is False


def test_watchdog_usec_is_read_in_seconds() -> None:
    """systemd gives microseconds."""
    assert watchdog_seconds({"WATCHDOG_USEC": "30000000"}) == 30.0


def test_no_watchdog_without_watchdog_usec() -> None:
    """A unit without WatchdogSec= asks for no pings."""
    assert watchdog_seconds({}) is None


def test_a_watchdog_meant_for_another_process_is_ignored() -> None:
    """WATCHDOG_PID names the process systemd watches; a child must not ping for it."""
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)}
    assert watchdog_seconds(env) is None


def test_a_watchdog_meant_for_this_process_is_used() -> None:
    """WATCHDOG_PID equal to our pid keeps the watchdog."""
    env = {"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_seconds(env) == 1.0
