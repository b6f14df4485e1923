"""The one shape of every JSON error: RFC 9457 problem details (``application/problem+json``).

    {"type": "urn:vaxgate:problem:invalid", "title": "Invalid input", "status": 400,
     "detail": "pincode: 800999 is not a PIN code in India Post's directory",
     "field": "pincode"}

``type`` names the kind of problem (clients switch on it), ``title`` describes that kind,
``detail`` this occurrence; ``field`` names the bad input when there is one, and other
members carry details (``suggestions``, ``errors``, ``booked``...). gateway/api/errors.py
``error`` is what routes call; the app's last-resort handlers (web/health.py) use this too.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, current_app, json

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:vaxgate:problem:"
TITLES = {
    "invalid": "Invalid input",
    "invalid_rows": "Rows refused",
    "invalid_menus": "The menus have problems",
    "invalid_payload": "Invalid webhook payload",
    "unauthorized": "An API key is required",
    "forbidden": "Not allowed",
    "not_found": "Not found",
    "capacity_below_booked": "Capacity below what is booked",
    "rate_limited": "Too many requests",
    "bad_signature": "Bad webhook signature",
    "bad_secret": "Bad webhook secret",
}


def problem_type(code: str) -> str:
    """The ``type`` URI of a kind of problem, e.g. ``urn:vaxgate:problem:not_found``."""
    return TYPE_PREFIX + code


def problem(status: int, code: str, detail: str, title: str | None = None,
            **extra: Any) -> Response:
    """A problem-details answer; ``extra`` names the field or carries details."""
    body = {"type": problem_type(code), "title": title or TITLES.get(code) or _phrase(status),
            "status": status, "detail": detail, **extra}
    return current_app.response_class(json.dumps(body) + "\n", status=status,
                                      mimetype=MEDIA_TYPE)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def code_of(title: str) -> str:
    """A problem code from an HTTP reason such as "Not Found" (``not_found``)."""
    return "_".join(title.lower().split())
