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


def api(roles: tuple[str, ...] = ("admin", "district", "viewer")) -> Callable:
    """Require a key whose role is in ``roles``; map domain errors to JSON answers."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            who = key_principal()
            if who is None:
                return error(401, "unauthorized", "a valid API key is required (X-API-Key)")
            if who.role not in roles:
                return error(403, "forbidden", f"the {who.role} role cannot do this")
            g.api_principal = who
            try:
                return view(*args, **kwargs)
            except inv.CapacityBelowBooked as exc:
                return error(409, "capacity_below_booked", str(exc), field="capacity",
                             capacity=exc.capacity, booked=exc.booked)
            except inv.InventoryError as exc:
                return error(400, "invalid", str(exc), field=exc.field)
            except inv.NotFound as exc:
                return error(404, "not_found", f"{exc} not found")
        return wrapped
    return decorate


WRITERS = ("admin", "district")
