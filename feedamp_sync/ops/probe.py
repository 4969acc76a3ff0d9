"""``feedamp-sync healthcheck``: ask the running daemon's ``/readyz`` (stdlib HTTP only).

The address is the configured ``health.listen``; a wildcard listen address is probed on
the loopback address of its family, which is how a container's HEALTHCHECK reaches it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Final

WILDCARDS: Final = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def probe_url(address: tuple[str, int]) -> str:
    host, port = address
    host = WILDCARDS.get(host, host)
    return f"http://[{host}]:{port}/readyz" if ":" in host else f"http://{host}:{port}/readyz"


def probe_ready(address: tuple[str, int], timeout: float) -> tuple[bool, str]:
    """(ready, what to print): ready only on a 200 from ``/readyz``."""
    url = probe_url(address)
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with direct.open(url, timeout=timeout):
            return True, f"ready ({url})"
    except urllib.error.HTTPError as answer:
        return False, f"not ready ({url}, HTTP {answer.code}): {_failed(answer.read())}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return False, f"no answer from {url}: {reason}; is the daemon running?"


def _failed(body: bytes) -> str:
    """The failed checks from a ``/readyz`` body, or the body itself if it is not ours."""
    try:
        failed = json.loads(body)["failed"]
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace")[:500]
    return "; ".join(f"{name}: {problem}" for name, problem in failed.items())
