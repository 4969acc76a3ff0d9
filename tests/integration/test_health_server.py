"""The health listener on a real socket: routes, unknown paths, failing checks, a busy port."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from feedamp_sync.errors import ConfigError
from feedamp_sync.ops.server import HealthServer, Reply


def broken() -> Reply:
    raise RuntimeError("a bug in a check")


@pytest.fixture
def server() -> Iterator[HealthServer]:
    routes = {"/healthz": lambda: (200, "application/json", b'{"ok": true}\n'), "/bug": broken}
    with HealthServer(("127.0.0.1", 0), routes) as running:
        yield running


def get(server: HealthServer, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read()


def head(server: HealthServer, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as answer:
        return answer.code, dict(answer.headers), answer.read()


def test_head_answers_the_status_and_headers_of_get_without_the_body(
    server: HealthServer,
) -> None:
    """HEAD /healthz: 200, the content type and length a GET would get, and no body."""
    status, headers, body = head(server, "/healthz")
    assert (status, body) == (200, b"")
    assert (headers["Content-Type"], headers["Content-Length"]) == ("application/json", "13")


@pytest.mark.parametrize(("path", "status"), [("/admin", 404), ("/bug", 500)])
def test_head_of_an_unknown_or_failing_route_answers_its_status(
    server: HealthServer, path: str, status: int
) -> None:
    """HEAD takes the same route as GET: 404 for an unknown path, 500 for a failing check."""
    assert head(server, path)[::2] == (status, b"")


def test_a_route_answers_with_its_reply(server: HealthServer) -> None:
    """The function's status and body are sent as they are."""
    assert get(server, "/healthz") == (200, b'{"ok": true}\n')


def test_a_query_string_does_not_change_the_route(server: HealthServer) -> None:
    """/healthz?verbose is still /healthz."""
    assert get(server, "/healthz?verbose=1")[0] == 200


def test_an_unknown_path_is_404(server: HealthServer) -> None:
    """Nothing but the configured routes is served."""
    assert get(server, "/admin")[0] == 404


def test_a_failing_check_answers_500_and_the_listener_lives_on(server: HealthServer) -> None:
    """A bug in one check is a 500 for that request only."""
    assert (get(server, "/bug")[0], get(server, "/healthz")[0]) == (500, 200)


def test_a_busy_port_is_a_config_error_naming_the_key(server: HealthServer) -> None:
    """A second listener on the same port stops the start with health.listen named."""
    with pytest.raises(ConfigError, match=r"health\.listen: cannot listen on 127\.0\.0\.1:"):
        HealthServer(("127.0.0.1", server.port), {})
