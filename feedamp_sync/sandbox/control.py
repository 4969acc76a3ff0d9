"""``/_sandbox/...``: the sandbox's Python API over HTTP, for out-of-process users.

The demo and the end-to-end tests run the sandbox as a separate process, so they need the
same levers the in-process tests have: read the ledger and effects, add orders and returns,
set faults, move returns between states. These endpoints need no authentication, are never
faulted and are not recorded in the ledger; they are why the sandbox refuses non-loopback
addresses unless told otherwise.

    GET  /_sandbox/ledger[?endpoint=NAME]      list of ledger entries
    GET  /_sandbox/effects[?kind=KIND]         list of effects
    GET  /_sandbox/summary                     counts of orders, returns, requests, effects
    GET  /_sandbox/confirmed                   {order id: cp_order_number}
    GET  /_sandbox/faults                      the fault configuration
    PUT  /_sandbox/faults                      replace it (omitted fields take their defaults)
    POST /_sandbox/orders   {"count": n}                     201 {"ids": [...]}
    POST /_sandbox/returns  {"count": n, "states"?: [...]}   201 {"ids": [...]}
    GET  /_sandbox/orders/{id}, /_sandbox/returns/{id}       the object, 404 if unknown
    PUT  /_sandbox/returns/{id}/state  {"state": "..."}      200 {"return": {...}}
    PUT  /_sandbox/orders/{id}/state  {"state": "...", "marketplace_state"?: "..."}
                                             200 {"order": {...}}: e.g. cancelled on the
                                             marketplace after confirm
    POST /_sandbox/orders/{id}/ui_shipments  {"mp_line_number": "...", "shipment": {...}}
                                             201 {"order": {...}}: as if typed into the UI
"""

from __future__ import annotations

import re
from typing import Final

from feedamp_sync.sandbox.app import Sandbox
from feedamp_sync.sandbox.faults import Faults
from feedamp_sync.sandbox.wire import (
    JSON,
    Rejected,
    Request,
    Response,
    error_response,
    json_response,
    parse_json_object,
)

PREFIX: Final = "/_sandbox/"
MAX_COUNT: Final = 10_000
_ORDER: Final = re.compile(r"/_sandbox/orders/(?P<id>[^/]+)")
_RETURN: Final = re.compile(r"/_sandbox/returns/(?P<id>[^/]+)")
_RETURN_STATE: Final = re.compile(r"/_sandbox/returns/(?P<id>[^/]+)/state")
_ORDER_STATE: Final = re.compile(r"/_sandbox/orders/(?P<id>[^/]+)/state")
_UI_SHIPMENT: Final = re.compile(r"/_sandbox/orders/(?P<id>[^/]+)/ui_shipments")


def handle(sandbox: Sandbox, request: Request) -> Response:
    """Answer one control request (the path starts with ``/_sandbox/``)."""
    try:
        return _dispatch(sandbox, request)
    except Rejected as exc:
        return error_response(exc.status, exc.message)


def _count(body: JSON) -> int:
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_COUNT:
        raise Rejected(400, f"count must be an integer from 0 to {MAX_COUNT}")
    return count


def _dispatch(sandbox: Sandbox, request: Request) -> Response:
    method, path = request.method, request.path
    if (method, path) == ("GET", "/_sandbox/ledger"):
        entries = sandbox.ledger(request.query.get("endpoint"))
        return json_response(200, [entry.to_json() for entry in entries])
    if (method, path) == ("GET", "/_sandbox/effects"):
        return json_response(200, sandbox.effects(request.query.get("kind")))
    if (method, path) == ("GET", "/_sandbox/summary"):
        return json_response(200, sandbox.summary())
    if (method, path) == ("GET", "/_sandbox/confirmed"):
        return json_response(200, sandbox.confirmed_orders())
    if (method, path) == ("GET", "/_sandbox/faults"):
        return json_response(200, sandbox.faults.to_json())
    if (method, path) == ("PUT", "/_sandbox/faults"):
        try:
            faults = Faults.from_json(parse_json_object(request.body))
        except (TypeError, ValueError) as exc:
            raise Rejected(400, str(exc)) from exc
        return json_response(200, sandbox.set_faults(faults).to_json())
    if (method, path) == ("POST", "/_sandbox/orders"):
        count = _count(parse_json_object(request.body))
        return json_response(201, {"ids": sandbox.add_orders(count)})
    if (method, path) == ("POST", "/_sandbox/returns"):
        body = parse_json_object(request.body)
        states = body.get("states")
        if states is not None and (
            not isinstance(states, list) or not all(isinstance(s, str) for s in states)
        ):
            raise Rejected(400, "states must be a list of return states")
        try:
            ids = sandbox.add_returns(_count(body), states)
        except ValueError as exc:
            raise Rejected(400, str(exc)) from exc
        return json_response(201, {"ids": ids})
    if method == "PUT" and (match := _RETURN_STATE.fullmatch(path)):
        state = parse_json_object(request.body).get("state")
        if not isinstance(state, str):
            raise Rejected(400, "state is required and must be a string")
        try:
            sandbox.set_return_state(match["id"], state)
        except KeyError as exc:
            raise Rejected(404, f"return {match['id']} not found") from exc
        except ValueError as exc:
            raise Rejected(400, str(exc)) from exc
        return json_response(200, {"return": sandbox.return_(match["id"])})
    if method == "PUT" and (match := _ORDER_STATE.fullmatch(path)):
        body = parse_json_object(request.body)
        state, marketplace_state = body.get("state"), body.get("marketplace_state")
        if not isinstance(state, str) or not isinstance(marketplace_state, str | None):
            raise Rejected(400, "state (a string) is required; marketplace_state is a string")
        try:
            sandbox.set_order_state(match["id"], state, marketplace_state)
        except KeyError as exc:
            raise Rejected(404, f"order {match['id']} not found") from exc
        except ValueError as exc:
            raise Rejected(400, str(exc)) from exc
        return json_response(200, {"order": sandbox.order(match["id"])})
    if method == "POST" and (match := _UI_SHIPMENT.fullmatch(path)):
        body = parse_json_object(request.body)
        line, shipment = body.get("mp_line_number"), body.get("shipment")
        if not isinstance(line, str) or not isinstance(shipment, dict):
            raise Rejected(400, "mp_line_number (a string) and shipment (an object) are required")
        try:
            sandbox.enter_shipment(match["id"], line, shipment)
        except KeyError as exc:
            raise Rejected(404, f"order {match['id']} or its line {line} not found") from exc
        return json_response(201, {"order": sandbox.order(match["id"])})
    if method == "GET" and (match := _ORDER.fullmatch(path)):
        try:
            return json_response(200, {"order": sandbox.order(match["id"])})
        except KeyError as exc:
            raise Rejected(404, f"order {match['id']} not found") from exc
    if method == "GET" and (match := _RETURN.fullmatch(path)):
        try:
            return json_response(200, {"return": sandbox.return_(match["id"])})
        except KeyError as exc:
            raise Rejected(404, f"return {match['id']} not found") from exc
    return error_response(404, "no such control endpoint")
