"""Structured logging: JSON lines off a terminal, readable console on one, never a secret.

Dates and times are rendered as ISO 8601 text wherever they sit in an event's values: JSON
would otherwise print their Python repr, and the console renderer does.

Redaction happens in two layers because secrets reach log lines two ways: by key (a field
called ``password`` or ``token``) and by value (a password quoted inside an exception text).
Every secret the process learns is registered (:func:`register_secret` for passwords,
:func:`register_token` for issued tokens) so the second layer can scrub it from any string,
tracebacks included. Tracebacks are rendered as plain text,
without local variables, so no frame can print a secret held in a variable.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import threading
from collections import deque
from collections.abc import Mapping
from datetime import date, time
from typing import Any, Final, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED: Final = "[redacted]"
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|authorization|api[_-]?key|credential", re.I)
_BASIC_HEADER = re.compile(r"(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]{6,}", re.I)
_BASIC_HEADER_MIN_LENGTH: Final = len("Basic ") + 6
_MIN_SECRET_LENGTH: Final = 4
TOKENS_KEPT: Final = 16
"""Issued tokens of one account remembered for scrubbing. A token leaves memory once every
call holding it has ended (each within twice ``api.timeout_seconds``), and a call sees at most
a renewal or two, so only the newest can still reach a log line; keeping every one would
make each line slower, for ever, in a daemon that renews its token hourly for years."""

LogFormat = Literal["json", "console", "auto"]


class SecretRegistry:
    """The secret values to scrub from every string that reaches a log line: passwords for
    the life of the process, issued tokens up to the newest ``tokens_kept`` of each account."""

    def __init__(self, *, tokens_kept: int = TOKENS_KEPT) -> None:
        self._lock = threading.Lock()
        self._tokens_kept = tokens_kept
        self._permanent: frozenset[str] = frozenset()
        self._tokens: dict[str, deque[str]] = {}
        self._values: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        if len(value) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self._permanent |= {value}
                self._remember()

    def add_token(self, account: str, value: str) -> None:
        if len(value) >= _MIN_SECRET_LENGTH:
            with self._lock:
                kept = self._tokens.setdefault(account, deque(maxlen=self._tokens_kept))
                kept.append(value)
                self._remember()

    def _remember(self) -> None:
        tokens = {token for kept in self._tokens.values() for token in kept}
        self._values = tuple(self._permanent | tokens)

    def scrub(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        if len(text) >= _BASIC_HEADER_MIN_LENGTH and _BASIC_HEADER.search(text):
            text = _BASIC_HEADER.sub(r"\1 " + REDACTED, text)
        return text


_registry: Final = SecretRegistry()


def register_secret(value: str) -> None:
    """Remember a secret value (a password) so logs never show it."""
    _registry.add(value)


def register_token(account: str, value: str) -> None:
    """Remember a token FeedAMP issued to an account so logs never show it (the newest ones;
    see :data:`TOKENS_KEPT`)."""
    _registry.add_token(account, value)


def scrub(text: str) -> str:
    """The text with every registered secret and any Basic/Bearer credential replaced."""
    return _registry.scrub(text)


@functools.lru_cache(maxsize=1024)
def _is_secret_key(key: str) -> bool:
    """Log keys are few and repeat on every line: each is matched once."""
    return _SECRET_KEY.search(key) is not None


def _redact_value(key: str | None, value: Any) -> Any:
    if key is not None and value is not None and _is_secret_key(key):
        return REDACTED
    if isinstance(value, str):
        return _registry.scrub(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(None, v) for v in value]
    if isinstance(value, BaseException):
        return _registry.scrub(f"{type(value).__name__}: {value}")
    return value


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secret-looking keys and scrub registered secret values."""
    return {key: _redact_value(key, value) for key, value in event_dict.items()}


def _iso(value: Any) -> Any:
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_iso(v) for v in value]
    return value


def iso_datetimes(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: every date and time, nested in dicts and lists too, as ISO 8601."""
    return {key: _iso(value) for key, value in event_dict.items()}


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(
    *, level: str = "INFO", log_format: LogFormat = "auto", stream: TextIO | None = None
) -> None:
    """Set up structlog (and route stdlib logging through it) for the whole process."""
    out = stream or sys.stderr
    use_console = log_format == "console" or (log_format == "auto" and out.isatty())
    numeric_level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*_shared_processors(), *_rendering(use_console)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib_logging(numeric_level, out, _rendering(use_console))


def _rendering(use_console: bool) -> list[Processor]:
    """Redaction and rendering, the tail of every chain (structlog's and stdlib's)."""
    if use_console:
        # The console renderer formats exc_info itself, so scrub what it printed.
        console = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
        return [iso_datetimes, redact_secrets, console, _scrub_rendered]
    return [
        structlog.processors.format_exc_info,
        iso_datetimes,
        redact_secrets,
        structlog.processors.JSONRenderer(),
    ]


def _scrub_rendered(_: WrappedLogger, __: str, rendered: Any) -> Any:
    return _registry.scrub(rendered) if isinstance(rendered, str) else rendered


def _route_stdlib_logging(level: int, out: TextIO, rendering: list[Processor]) -> None:
    """Library loggers (APScheduler, Alembic) go through the same redaction and format."""
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_shared_processors(),
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.INFO))
    for chatty in ("httpx", "httpcore", "alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # "skipped: maximum number of running instances reached" is the intended coalescing
    # of a long outbox drain, not a problem worth a warning on every tick.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
