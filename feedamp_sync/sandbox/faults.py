"""Injected faults: what can go wrong on a request, and the seeded dice that decide it.

Every failure mode a real network and a real API show is here, so the daemon's retry,
reconciliation and pagination rules can be proven against them:

* ``error_5xx``: a 500/502/503 before anything happens (no effect);
* ``rate_limited``: a 429 with ``Retry-After: <retry_after_seconds>`` (no effect);
* ``slow``: wait ``slow_seconds``, then handle normally (pair with a shorter client timeout:
  the effect then lands after the client gave up);
* ``drop``: close the connection without a byte of response (no effect);
* ``drip``: handle normally, send the headers, then the body one byte every ``drip_seconds``
  (a client must end the call by its own deadline, not per read);
* ``apply_then_fail``: apply the effect, then answer 500 or drop (50/50), so the client cannot
  know it worked;
* ``token_expiry_requests``: each token dies after that many requests;
* ``end_of_pages`` and ``offset_cursor``: how list endpoints end and what cursors mean;
  ``stuck_cursor``: every cursor leads back to the first page, under a fresh cursor;
* ``hide_fulfillments``: GET order shows no fulfillments or cancellations on its lines (the
  docs do not say how it shows them); ``normalised_tracking``: it shows tracking numbers
  upper-cased and trimmed; ``summed_shipments``: it shows a line's shipments under one
  tracking number as one, their units summed;
* ``duplicate_status`` and ``duplicate_wording``: how a refusal of a duplicate number or of
  an action already done is answered (409 and "duplicate ..." unless told otherwise);
* ``hide_return_line_ids``: return lines carry neither ``feedamp_return_line_id`` nor ``id``;
  a return refund then names a line by its ``mp_return_line_number``, the one name shown.

The per-request faults are drawn in that order (drop, error_5xx, rate_limited, apply_then_fail,
slow, drip), each with its own probability, from one RNG seeded from the sandbox seed; at most one
applies. They hit the API endpoints (``get_token`` only with ``include_token``), optionally only
those named in ``endpoints``; never the control endpoints.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass, fields
from typing import Any, Final, Literal

from feedamp_sync.sandbox.pages import END_OF_PAGES_FORMS, EndOfPages
from feedamp_sync.sandbox.vocab import ENDPOINTS

FaultName = Literal["drop", "error_5xx", "rate_limited", "apply_then_fail", "slow", "drip"]

_PROBABILITIES: Final = ("drop", "error_5xx", "rate_limited", "apply_then_fail", "slow", "drip")


@dataclass(frozen=True)
class Faults:
    """The fault configuration; the default injects nothing."""

    error_5xx: float = 0.0
    rate_limited: float = 0.0
    retry_after_seconds: int = 1
    slow: float = 0.0
    slow_seconds: float = 2.0
    drip: float = 0.0
    drip_seconds: float = 1.0
    drop: float = 0.0
    apply_then_fail: float = 0.0
    token_expiry_requests: int | None = None
    end_of_pages: EndOfPages = "null"
    offset_cursor: bool = False
    stuck_cursor: bool = False
    hide_fulfillments: bool = False
    normalised_tracking: bool = False
    summed_shipments: bool = False
    duplicate_status: int = 409
    duplicate_wording: str | None = None
    hide_return_line_ids: bool = False
    endpoints: Collection[str] | None = None
    include_token: bool = False

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability from 0 to 1, not {value!r}")
        if not isinstance(self.retry_after_seconds, int) or self.retry_after_seconds < 0:
            raise ValueError("retry_after_seconds must be a non-negative integer")
        for name in ("slow_seconds", "drip_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        if not isinstance(self.duplicate_status, int) or not 400 <= self.duplicate_status < 500:
            raise ValueError("duplicate_status must be a 4xx status code")
        expiry = self.token_expiry_requests
        if expiry is not None and (not isinstance(expiry, int) or expiry < 1):
            raise ValueError("token_expiry_requests must be a positive integer or None")
        if self.end_of_pages not in END_OF_PAGES_FORMS:
            raise ValueError(f"end_of_pages must be one of {', '.join(END_OF_PAGES_FORMS)}")
        if self.endpoints is not None:
            if isinstance(self.endpoints, str):
                raise ValueError("endpoints must be a collection of endpoint names")
            unknown = set(self.endpoints) - set(ENDPOINTS)
            if unknown:
                raise ValueError(f"unknown endpoint(s): {', '.join(sorted(unknown))}")
            object.__setattr__(self, "endpoints", frozenset(self.endpoints))

    def applies_to(self, endpoint: str) -> bool:
        """Whether per-request faults may hit ``endpoint``."""
        if endpoint == "unknown" or (endpoint == "get_token" and not self.include_token):
            return False
        return self.endpoints is None or endpoint in self.endpoints

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["endpoints"] = None if self.endpoints is None else sorted(self.endpoints)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        """Faults from a JSON object; unknown keys and bad values raise ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass(frozen=True)
class FaultDecision:
    """The fault chosen for one request; ``status`` is the 5xx to send (None = drop)."""

    name: FaultName | None = None
    status: int | None = None


NO_FAULT: Final = FaultDecision()


class FaultInjector:
    """The current :class:`Faults` and the dice; both swap safely while requests run."""

    def __init__(self, faults: Faults, seed: int | str) -> None:
        self._lock = threading.Lock()
        self._faults = faults
        self._rng = random.Random(f"faults:{seed}")

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults

    def decide(self, endpoint: str) -> tuple[Faults, FaultDecision]:
        """Draw this request's fault; also return the configuration the draw used."""
        with self._lock:
            faults = self._faults
            if not faults.applies_to(endpoint):
                return faults, NO_FAULT
            for name in _PROBABILITIES:
                probability: float = getattr(faults, name)
                if probability and self._rng.random() < probability:
                    return faults, self._decision(name)
            return faults, NO_FAULT

    def _decision(self, name: str) -> FaultDecision:
        if name == "error_5xx":
            return FaultDecision("error_5xx", self._rng.choice((500, 502, 503)))
        if name == "apply_then_fail":
            return FaultDecision("apply_then_fail", self._rng.choice((500, None)))
        if name == "rate_limited":
            return FaultDecision("rate_limited", 429)
        if name == "drop":
            return FaultDecision("drop", None)
        if name == "drip":
            return FaultDecision("drip", None)
        return FaultDecision("slow", None)
