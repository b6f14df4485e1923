"""A menu draft that listed test phones see live before it is published.

One draft at a time: its files, the test phones (E.164) and who saved it, in Redis
(``vaxgate:menus:draft``, a week; publishing or discarding removes it). A USSD session
that starts from a test phone runs on the draft; everyone else stays on the live menus.
Each process reads the key at most once a second (as ``MenuStore`` reads the live id).
The phone menu (USSD) only: voice calls stay on the live menus.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from typing import Any

from redis.exceptions import RedisError

from gateway.text.phones import InvalidPhone, parse_phone

from .publishing import parse_files

log = logging.getLogger(__name__)

KEY = "vaxgate:menus:draft"
KEEP_S = 7 * 24 * 3600
CHECK_EVERY_SECONDS = 1.0
MAX_PHONES = 10

_lock = threading.Lock()
_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per Redis client


class DraftError(ValueError):
    """A draft cannot be saved; the message says why in words."""


def test_phones(text: str) -> list[str]:
    """The phones of a form field (commas, spaces or lines between them), as E.164."""
    raw = [p for p in text.replace(",", " ").split() if p]
    if not raw:
        raise DraftError("List at least one test phone number.")
    if len(raw) > MAX_PHONES:
        raise DraftError(f"At most {MAX_PHONES} test phones.")
    try:
        return [parse_phone(p) for p in raw]
    except InvalidPhone as exc:
        raise DraftError(f"Test phones: {exc}") from None


def save(conn, files: dict[str, str], phones: list[str], author: str) -> None:
    """Make ``files`` the draft the ``phones`` see (this process at once)."""
    conn.set(KEY, json.dumps({"files": files, "phones": phones, "author": author},
                             ensure_ascii=False), ex=KEEP_S)
    _caches.pop(conn, None)


def discard(conn) -> None:
    """No draft any more (after publishing, or on request)."""
    conn.delete(KEY)
    _caches.pop(conn, None)


def current(conn) -> dict[str, Any] | None:
    """The draft (files, phones, author, and its FlowSet as ``flows``), or None."""
    now = time.monotonic()
    _cache = _caches.setdefault(conn, {"at": -CHECK_EVERY_SECONDS, "raw": None,
                                       "draft": None})
    if now - _cache["at"] >= CHECK_EVERY_SECONDS and _lock.acquire(blocking=False):
        try:
            raw = conn.get(KEY)
            if raw != _cache["raw"]:
                _cache["raw"], _cache["draft"] = raw, _load(raw)
            _cache["at"] = now
        except RedisError as exc:  # no draft rather than no answer
            log.warning("menu draft not read: %s", exc)
        finally:
            _lock.release()
    return _cache["draft"]


def _load(raw) -> dict[str, Any] | None:
    if not raw:
        return None
    draft = json.loads(raw)
    flows, errors = parse_files(draft["files"])
    if flows is None:
        log.warning("menu draft ignored: %s", errors[:1])
        return None
    return {**draft, "flows": flows}


def flows_for(runtime, phone: str):
    """The menus a new session from ``phone`` starts on: the draft for a test phone."""
    draft = current(runtime.redis)
    if draft is not None and phone in draft["phones"]:
        return draft["flows"]
    return runtime.flows


def versions(runtime):
    """The lookup of a session's version, knowing the draft's too."""
    def lookup(version: str | None):
        draft = current(runtime.redis)
        if draft is not None and version == draft["flows"].version:
            return draft["flows"]
        return runtime.menus.get(version)
    return lookup
