"""The exception tree, classified by what the caller does next.

    FeedampSyncError
    ├── ConfigError            configuration is unusable: stop, exit 78
    ├── DatabaseNotMigrated    the schema is not at head: stop, exit 78
    ├── DatabaseError          the database did not answer or refused a query: exit 1
    ├── InstanceConflict       another daemon owns this SQLite file: stop, exit 78
    ├── InvalidPayload         a seller action is malformed: refuse it, exit 65
    ├── Unstorable             an order or return FeedAMP sent cannot be stored: quarantine it
    ├── ActionConflict         FeedAMP shows the action done differently: message dead
    ├── LeaseExpired           a claim ran out before sending: send nothing, requeue
    └── ApiError               FeedAMP said no, or could not be reached
        ├── ApiUnavailable     try again later (5xx, 429, timeouts, dropped connections)
        │   └── ApiResponseInvalid  a 2xx whose body we cannot use: log and try later
        ├── ApiRejected        final for this request (other 4xx), with the API's reason
        └── ApiAuthError       credentials refused (401 after a fresh token): exit 77
            └── ApiForbidden   client id not authorized or IP not allowlisted (403)

Callers catch the class that matches the decision they take, never ``Exception``
(the one exception is the guard that keeps a scheduled tick from killing the daemon). That
guard logs the failures operations expect (:func:`is_expected_failure`) on one line; a
traceback is for the unexpected.
"""

from __future__ import annotations

from typing import Final


class FeedampSyncError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(FeedampSyncError):
    """The configuration cannot be used; the message names the key and the problem."""


class DatabaseNotMigrated(FeedampSyncError):
    """The database schema is missing or older than this release."""


class DatabaseError(FeedampSyncError):
    """A query failed, or the database could not be reached; the message is the driver's reason.

    One line, without the statement or its parameters (customer data); see ``db/errors.py``.
    """


class InstanceConflict(FeedampSyncError):
    """Another daemon already uses this database in a way that allows only one."""


class InvalidPayload(FeedampSyncError):
    """A seller action (outbox payload) is malformed; nothing was stored."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class Unstorable(FeedampSyncError):
    """An object FeedAMP sent that no database can store as received (text PostgreSQL cannot
    hold, a number no column fits, no id); the message names the field and the problem."""


class ApiError(FeedampSyncError):
    """FeedAMP answered with an error, or did not answer."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        self.message = message
        self.status_code = status_code
        super().__init__(message if status_code is None else f"HTTP {status_code}: {message}")


class ApiUnavailable(ApiError):
    """Worth retrying later; ``retry_after`` is the server's own hint in seconds.

    ``effect_unknown`` says whether the failed request may have changed something at FeedAMP
    without our learning it: a mutation that timed out, lost its connection after sending or
    met a 5xx. The client clears it when FeedAMP cannot have acted (a read, a 429, a
    connection never made, a request never sent); a failure it cannot vouch for keeps it.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        effect_unknown: bool = True,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after
        self.effect_unknown = effect_unknown


class ApiResponseInvalid(ApiUnavailable):
    """A successful status with a body that does not have the documented shape."""


class ApiRejected(ApiError):
    """FeedAMP refused this request for good (a 4xx other than 401/403/429)."""


class ApiAuthError(ApiError):
    """FeedAMP refused the credentials, even with a fresh token."""


class ApiForbidden(ApiAuthError):
    """The client id is not authorized for this user, or the IP is not allowlisted."""


class ActionConflict(FeedampSyncError):
    """FeedAMP's copy shows the action was done differently (e.g. another cp_order_number).

    Sending again could not make it right; the message goes dead with this reason so an
    operator looks at it.
    """


class LeaseExpired(FeedampSyncError):
    """This worker's claim ran out before it could send (the process was paused or starved).

    Another instance may hold the message by now, so nothing is sent; the message returns to
    the queue without counting an attempt (if no one else has taken it).
    """


EXPECTED_FAILURES: Final = (ApiAuthError, ApiUnavailable, DatabaseError)
"""FeedAMP refused the credentials or client id; FeedAMP did not answer usefully after its
retries; the database did not answer, dropped the connection or gave up waiting for a lock
another session holds (``db/errors.py`` turns those into DatabaseError)."""


def is_expected_failure(error: BaseException) -> bool:
    """Whether a failed tick's error is one operations expect from time to time, whose message
    says everything (what failed and FeedAMP's or the driver's reason): it is logged on one
    line. Anything else (a fault in this program, FeedAMP refusing a request for good) keeps
    its traceback, where the fault is found."""
    return isinstance(error, EXPECTED_FAILURES)
