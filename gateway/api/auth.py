"""Who is calling /api/v1: the presented API key, its principal, and the ``api`` guard that
every route wears (flaskr's ``auth.py``: a blueprint's guards live beside it)."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, g, request

from gateway.admin import inventory as inv
from gateway.admin.auth import Principal
from gateway.web.runtime import get_runtime

from .errors import error
from .keys import principal_for_key


def presented_key() -> str:
    """The API key of this request (X-API-Key header or a Bearer token)."""
    given = request.headers.get("X-API-Key", "")
    auth = request.headers.get("Authorization", "")
    return given or (auth[7:] if auth.startswith("Bearer ") else "")


def key_principal() -> Principal | None:
    """The principal of the presented SQL API key, or None."""
    key = presented_key()
    if not key:
        return None
    with get_runtime().db.read() as session:
        return principal_for_key(session, key)


# POSTs that only read (the phone number stays out of URLs and access logs)
READ_BY_POST = frozenset({"/api/v1/phone-history"})


def scope_for(path: str, method: str) -> str:
    """The scope a request needs: ``otp:send`` for the OTP API, ``read`` to look,
    ``write`` to change."""
    if path.startswith("/api/v1/otp"):
        return "otp:send"
    if method.upper() in ("GET", "HEAD", "OPTIONS") or path in READ_BY_POST:
        return "read"
    return "write"


def needed_scope() -> str:
    """The scope this request needs (see :func:`scope_for`)."""
    return scope_for(request.path, request.method)


def api(roles: tuple[str, ...] = ("admin", "district", "viewer")) -> Callable:
    """Require a key whose role is in ``roles`` and whose scopes allow the request; map
    domain errors to JSON answers."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            who = key_principal()
            if who is None:
                return error(401, "unauthorized", "a valid API key is required (X-API-Key)")
            if who.role not in roles:
                return error(403, "forbidden", f"the {who.role} role cannot do this")
            if needed_scope() not in who.scopes:
                return error(403, "forbidden", f"this key lacks the {needed_scope()} scope")
            g.api_principal = who
            try:
                return view(*args, **kwargs)
            except inv.CapacityBelowBooked as exc:
                return error(409, "capacity_below_booked", str(exc), field="capacity",
                             capacity=exc.capacity, booked=exc.booked)
            except inv.InventoryError as exc:
                return error(400, "invalid", str(exc), field=exc.field,
                             **suggested(exc.suggestions))
            except inv.NotFound as exc:
                return error(404, "not_found", f"{exc} not found")
        return wrapped
    return decorate


WRITERS = ("admin", "district")


def suggested(suggestions: list[str]) -> dict[str, list[str]]:
    """The ``suggestions`` member of a problem, when there are any (close district names)."""
    return {"suggestions": suggestions} if suggestions else {}
