"""Cursor pagination of every /api/v1 list.

``?limit=`` (default 100, at most 500) rows per page and ``?cursor=`` from the previous
page: a list answers ``{"<items>": [...], "next_cursor": "…" | null}`` and, when there is a
next page, a ``Link: <…>; rel="next"`` header. Rows come in id order (oldest first, or
newest first where the list is a log), so a row added meanwhile neither repeats nor shifts
a page. The cursor is opaque to clients: the last id of the page, base64url-encoded.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, jsonify, request

from gateway.admin.inventory import InventoryError
from gateway.storage import SQL_INTEGER_MAX

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
PARAMETERS = ("cursor", "limit")


@dataclass(frozen=True)
class Page:
    """Which page a request asks for: after the row with id ``after``, ``limit`` rows."""

    after: int | None
    limit: int

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to know whether another page follows."""
        return self.limit + 1


def requested() -> Page:
    """The page named by ``?cursor=`` and ``?limit=``; InventoryError naming a bad one."""
    raw_limit = request.args.get("limit", "")
    if raw_limit and not (raw_limit.isascii() and raw_limit.isdigit()
                          and 1 <= int(raw_limit) <= MAX_LIMIT):
        raise InventoryError("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    cursor = request.args.get("cursor", "")
    return Page(_decode(cursor) if cursor else None, int(raw_limit or DEFAULT_LIMIT))


def answer(name: str, rows: Sequence[Any], to_dict: Callable[[Any], dict], page: Page,
           **extra: Any) -> Response:
    """The page of ``rows`` (read with ``page.fetch``) as ``{name: [...], "next_cursor"}``."""
    shown = list(rows[:page.limit])
    cursor = _encode(shown[-1].id) if len(rows) > page.limit and shown else None
    response = jsonify({**extra, name: [to_dict(row) for row in shown], "next_cursor": cursor})
    if cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"} | {"cursor": cursor}
        response.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    return response


def after(query, column, page: Page, newest_first: bool = False):
    """``query`` limited to ``page``, in id order (``newest_first``: descending)."""
    if page.after is not None:
        query = query.where(column < page.after if newest_first else column > page.after)
    order = column.desc() if newest_first else column
    return query.order_by(None).order_by(order).limit(page.fetch)


def _encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "id" or not (number.isascii() and number.isdigit()) or \
            int(number) > SQL_INTEGER_MAX:
        raise InventoryError("cursor", "is not a cursor this API gave (use next_cursor)")
    return int(number)
