"""Which of our errors an unsuccessful HTTP status becomes: decided by what the caller does next.

* 401: credentials refused. On ``get_token`` that is the username or password; on any other
  call the client has already renewed the token once, so the fresh token was refused too.
* 403: the client id is not authorized for this user, or this host's IP is not allowlisted.
  Retrying cannot help, so it is never retried and stops the account (exit 77).
* 429 and 5xx: :class:`ApiUnavailable`, with the server's ``Retry-After`` hint.
* any other status (4xx, and the 3xx FeedAMP never sends unless ``base_url`` is wrong):
  :class:`ApiRejected`, final for this request, carrying the API's own reason.

Transport failures (timeouts, refused or dropped connections) are mapped in ``transport.py``.
"""

from __future__ import annotations

from feedamp_sync.errors import (
    ApiAuthError,
    ApiError,
    ApiForbidden,
    ApiRejected,
    ApiUnavailable,
)


def error_for_status(
    *,
    endpoint: str,
    account: str,
    client_id: int,
    status: int,
    message: str,
    retry_after: float | None,
) -> ApiError:
    """The error for a response that was not 2xx; ``message`` is the API's reason."""
    if status == 401:
        if endpoint == "get_token":
            return ApiAuthError(
                f"FeedAMP refused the username or password for account {account}",
                status_code=401,
            )
        return ApiAuthError(
            f"FeedAMP refused a freshly issued token for account {account} on {endpoint}",
            status_code=401,
        )
    if status == 403:
        forbidden = ApiForbidden(
            f"client id {client_id} is not authorized for this user, "
            "or this IP is not allowlisted (HTTP 403)"
        )
        forbidden.status_code = 403  # kept for the outbox row, not repeated in the message
        return forbidden
    if status == 429 or status >= 500:
        return ApiUnavailable(message, status_code=status, retry_after=retry_after)
    return ApiRejected(message, status_code=status)
