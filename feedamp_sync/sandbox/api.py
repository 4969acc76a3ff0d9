"""The FeedAMP v1 API surface: routes, authentication, and one handler per endpoint.

Each handler turns a :class:`Request` into an :class:`Outcome` (response plus effect) by
parsing it (``parse``) and calling the world (``state``); it knows nothing of sockets or faults.
Status codes follow docs/feedamp-api.md and, where the docs are silent, its "sandbox's choice"
column: 409 for a duplicate number or a second confirm, 400 for a rule violation, 404 for an
unknown id, and ``{"error": "<message>"}`` bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from feedamp_sync.sandbox import parse
from feedamp_sync.sandbox.auth import TokenBook, TokenExpired
from feedamp_sync.sandbox.faults import Faults
from feedamp_sync.sandbox.fulfillment import Echo
from feedamp_sync.sandbox.pages import cursor_field
from feedamp_sync.sandbox.state import PageRequest, World
from feedamp_sync.sandbox.wire import (
    JSON,
    Rejected,
    Request,
    Response,
    error_response,
    json_response,
    parse_json_object,
)


@dataclass(frozen=True)
class Outcome:
    """A handled request: what to answer, what changed, and what the ledger should note."""

    response: Response
    effect: JSON | None = None
    naive_timestamp: bool = False
    fault: str | None = None


_Handler = Callable[["Api", Request, dict[str, str], Faults], Outcome]


@dataclass(frozen=True)
class Route:
    """The endpoint a request is for; ``handler`` None means unknown path or wrong method."""

    endpoint: str
    handler: _Handler | None
    params: dict[str, str]
    status_if_unhandled: int = 404


_ID: Final = r"(?P<id>[^/]+)"


class Api:
    """The endpoints of one sandbox account."""

    def __init__(self, world: World, tokens: TokenBook) -> None:
        self._world = world
        self._tokens = tokens

    def resolve(self, method: str, path: str) -> Route:
        """The route for ``method path``: a 405 for a known path with another method."""
        known_path = False
        for route_method, pattern, endpoint, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method == method:
                return Route(endpoint, handler, match.groupdict())
            known_path = True
        return Route("unknown", None, {}, 405 if known_path else 404)

    def handle(self, route: Route, request: Request, faults: Faults) -> Outcome:
        """Authenticate and run the endpoint; every refusal becomes an error response."""
        if route.handler is None:
            message = "method not allowed" if route.status_if_unhandled == 405 else "not found"
            return Outcome(error_response(route.status_if_unhandled, message))
        try:
            if route.endpoint != "get_token":
                self._tokens.authenticate(request.headers, faults.token_expiry_requests)
            return route.handler(self, request, route.params, faults)
        except TokenExpired as exc:
            return Outcome(error_response(exc.status, exc.message), fault="token_expiry")
        except Rejected as exc:
            status, message = _as_configured(exc, faults)
            return Outcome(error_response(status, message))

    # -- endpoints ----------------------------------------------------------------------------

    def get_token(self, request: Request, _: dict[str, str], __: Faults) -> Outcome:
        token = self._tokens.issue(request.headers.get("authorization"))
        return Outcome(json_response(200, {"token": token}))

    def new_orders(self, request: Request, _: dict[str, str], faults: Faults) -> Outcome:
        page = self._world.new_orders(
            _paging(request, faults),
            marketplace_fulfilled=parse.flag(request.query, "marketplace_fulfilled"),
            include_raw=bool(parse.flag(request.query, "include_raw")),
        )
        body = {"orders": page.items} | cursor_field(page.next_cursor, faults.end_of_pages)
        return Outcome(json_response(200, body))

    def get_order(self, request: Request, params: dict[str, str], faults: Faults) -> Outcome:
        include_raw = bool(parse.flag(request.query, "include_raw"))
        echo = Echo(faults.hide_fulfillments, faults.normalised_tracking, faults.summed_shipments)
        order = self._world.get_order(params["id"], include_raw=include_raw, echo=echo)
        return Outcome(json_response(200, {"order": [order]}))

    def confirm(self, request: Request, params: dict[str, str], _: Faults) -> Outcome:
        number = parse.confirm_number(parse_json_object(request.body))
        shown, effect = self._world.confirm(params["id"], number)
        return Outcome(
            json_response(200, self._world.answer(params["id"], {"order": shown})), effect
        )

    def fulfill(self, request: Request, params: dict[str, str], _: Faults) -> Outcome:
        fulfill_request = parse.fulfill_request(parse_json_object(request.body))
        order, effect = self._world.fulfill(params["id"], fulfill_request)
        return Outcome(
            json_response(200, self._world.answer(params["id"], {"order": order})), effect
        )

    def refund(self, request: Request, params: dict[str, str], _: Faults) -> Outcome:
        info = parse.refund_info(parse_json_object(request.body))
        refund, effect = self._world.refund(params["id"], info)
        return Outcome(json_response(201, self._world.answer(params["id"], refund)), effect)

    def search_returns(self, request: Request, _: dict[str, str], faults: Faults) -> Outcome:
        query = parse.return_query(request.query)
        page = self._world.search_returns(query, _paging(request, faults))
        items = [_shown_return(item, faults) for item in page.items]
        body = {"returns": items} | cursor_field(page.next_cursor, faults.end_of_pages)
        return Outcome(json_response(200, body), naive_timestamp=query.naive_timestamp)

    def get_return(self, _: Request, params: dict[str, str], faults: Faults) -> Outcome:
        shown = _shown_return(self._world.get_return(params["id"]), faults)
        return Outcome(json_response(200, {"return": shown}))

    def authorize_return(self, request: Request, params: dict[str, str], _: Faults) -> Outcome:
        number = parse.merchant_return_number(parse_json_object(request.body))
        shown, effect = self._world.authorize_return(params["id"], number)
        return Outcome(json_response(200, {"return": shown}), effect)

    def refund_return(self, request: Request, params: dict[str, str], faults: Faults) -> Outcome:
        line_ids = parse.refund_line_ids(parse_json_object(request.body))
        shown, effect = self._world.refund_return(
            params["id"], line_ids, by_line_number=faults.hide_return_line_ids
        )
        return Outcome(json_response(200, {"return": _shown_return(shown, faults)}), effect)


def _shown_return(returned: Any, faults: Faults) -> Any:
    """A return as read, its lines without any id when the faults say so."""
    if not faults.hide_return_line_ids or not isinstance(returned, dict):
        return returned
    lines = returned.get("return_info", {}).get("return_lines", [])
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, dict):
            line.pop("feedamp_return_line_id", None)
            line.pop("id", None)
    return returned


def _as_configured(refusal: Rejected, faults: Faults) -> tuple[int, str]:
    """A duplicate or already-done refusal (409) as the faults say FeedAMP words it: the
    docs give neither its status nor its words."""
    if refusal.status != 409:
        return refusal.status, refusal.message
    message = refusal.message
    if faults.duplicate_wording is not None:
        subject = message.removeprefix("duplicate ").removesuffix(" already confirmed")
        message = f"{subject}: {faults.duplicate_wording}"
    return faults.duplicate_status, message


def _paging(request: Request, faults: Faults) -> PageRequest:
    return PageRequest(
        limit=parse.limit(request.query),
        cursor=request.query.get("cursor") or None,
        offset_mode=faults.offset_cursor,
        end_of_pages=faults.end_of_pages,
        stuck=faults.stuck_cursor,
    )


_ROUTES: Final[tuple[tuple[str, re.Pattern[str], str, _Handler], ...]] = tuple(
    (method, re.compile(pattern), endpoint, handler)
    for method, pattern, endpoint, handler in (
        ("GET", "/api/v1/get_token", "get_token", Api.get_token),
        ("GET", "/api/v1/orders/new", "new_orders", Api.new_orders),
        ("GET", "/api/v1/orders", "new_orders", Api.new_orders),
        ("GET", f"/api/v1/orders/{_ID}", "get_order", Api.get_order),
        ("PUT", f"/api/v1/orders/{_ID}/confirm", "confirm", Api.confirm),
        ("PUT", f"/api/v1/orders/{_ID}/fulfill", "fulfill", Api.fulfill),
        ("POST", f"/api/v1/orders/{_ID}/refund", "refund", Api.refund),
        ("GET", "/api/v1/returns", "search_returns", Api.search_returns),
        ("GET", f"/api/v1/returns/{_ID}", "get_return", Api.get_return),
        ("PUT", f"/api/v1/returns/{_ID}/authorize", "authorize_return", Api.authorize_return),
        ("PUT", f"/api/v1/returns/{_ID}/refund", "refund_return", Api.refund_return),
    )
)
"""The routes in match order: ``/orders/new`` comes before ``/orders/{id}``."""
