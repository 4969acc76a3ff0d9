"""Tokens: issued for HTTP Basic credentials, then required (with ``client``) on every call.

FeedAMP does not document a token lifetime, so the sandbox makes it finite in two ways a
client must survive: an age (``token_ttl_seconds``) and, as a fault, a number of requests
(``token_expiry_requests``). Either way the answer is a plain 401 and the client is expected to
fetch a new token once and retry. A valid token with the wrong ``client`` is a 403, which a
client must not retry.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from feedamp_sync.sandbox.wire import Rejected

FORBIDDEN_MESSAGE = "client id not authorized"


class TokenExpired(Rejected):
    """A 401 caused by the request-count limit; the ledger names it as the fault."""

    def __init__(self) -> None:
        super().__init__(401, "token expired")


@dataclass
class _Token:
    issued_at: float
    uses: int = 0


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


class TokenBook:
    """The tokens of the one configured user and client account."""

    def __init__(
        self,
        *,
        username: str,
        password: str,
        client_id: int,
        ttl_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self.username = username
        self.password = password
        self.client_id = client_id
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self.issued_values: list[str] = []
        """Every token ever issued, live or not: tests check none of them was printed."""
        self.issued = 0

    def _credentials_match(self, credentials: tuple[str, str]) -> bool:
        username, password = credentials
        return hmac.compare_digest(username.encode(), self.username.encode()) and (
            hmac.compare_digest(password.encode(), self.password.encode())
        )

    def issue(self, authorization: str | None) -> str:
        """A new token for correct Basic credentials; 401 otherwise."""
        credentials = _basic_credentials(authorization)
        if credentials is None or not self._credentials_match(credentials):
            raise Rejected(401, "invalid credentials")
        token = "-".join(secrets.token_hex(8) for _ in range(6))
        now = self._clock()
        with self._lock:
            self._tokens = {
                value: t for value, t in self._tokens.items() if now - t.issued_at < self._ttl
            }
            self._tokens[token] = _Token(issued_at=now)
            self.issued += 1
            self.issued_values.append(token)
        return token

    def authenticate(self, headers: Mapping[str, str], expiry_requests: int | None) -> None:
        """Accept a request whose ``token`` is live and whose ``client`` is ours.

        Basic credentials are optional on these calls, but when present they must be right.
        Each accepted request uses the token once; after ``expiry_requests`` uses it is dead.
        """
        authorization = headers.get("authorization")
        if authorization is not None:
            credentials = _basic_credentials(authorization)
            if credentials is not None and not self._credentials_match(credentials):
                raise Rejected(401, "invalid credentials")
        value = headers.get("token")
        if not value:
            raise Rejected(401, "token header is required")
        with self._lock:
            token = self._tokens.get(value)
            if token is None:
                raise Rejected(401, "invalid token")
            if self._clock() - token.issued_at >= self._ttl:
                del self._tokens[value]
                raise Rejected(401, "token expired")
            if expiry_requests is not None and token.uses >= expiry_requests:
                del self._tokens[value]
                raise TokenExpired()
            token.uses += 1
        client = headers.get("client")
        if client is None:
            raise Rejected(403, "client header is required")
        try:
            authorized = int(client) == self.client_id
        except ValueError:
            authorized = False
        if not authorized:
            raise Rejected(403, FORBIDDEN_MESSAGE)
