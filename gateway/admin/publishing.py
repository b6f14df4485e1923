"""Published menu versions: validate a draft, publish it to SQL, roll back, serve it live.

Each web process keeps a :class:`MenuStore`. ``current()`` asks Redis for the live version
id at most once a second (the key is bumped on publish; if Redis lost it, SQL answers and
the key is set again) and keeps every FlowSet it loaded by ``FlowSet.version``, so a USSD
session started on an older version finishes on it (``get(version)``). With nothing
published, the built-in menus under gateway/ussd_menus are live.
"""
from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.flows import FlowSet, parse_flows
from gateway.storage import Database

from .models import MenuVersion

log = logging.getLogger(__name__)
CURRENT_KEY = "vaxgate:menus:current"
CHECK_EVERY_SECONDS = 1.0
BUILTIN_ID = 0


def builtin_files(menu_dir: Path) -> dict[str, str]:
    """The shipped menu files as {filename: text}."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(menu_dir.glob("*.yaml"))}


def parse_files(files: dict[str, str],
                action_names: set[str] | None = None) -> tuple[FlowSet | None, list[str]]:
    """Load a menu set given as {filename: text} (via a temp dir); (flows or None, errors)."""
    with tempfile.TemporaryDirectory(prefix="vaxgate-menus-") as folder:
        for name, text in files.items():
            try:  # JSON can carry lone surrogates, which no file can hold
                data = text.encode("utf-8")
            except UnicodeEncodeError as exc:
                return None, [f"{Path(name).name}: not UTF-8 text (character {exc.start}: "
                              f"{exc.reason})"]
            (Path(folder) / Path(name).name).write_bytes(data)
        return parse_flows(folder, action_names)


def check_files(files: dict[str, str], action_names: set[str]) -> list[str]:
    """Every problem with a draft: structure, then USSD screen sizes in every language."""
    from gateway.ussd_menus.check import report_flows

    flows, errors = parse_files(files, action_names)
    if flows is None:
        return errors  # no main.yaml or messages.yaml: nothing to render
    # both kinds at once, as `vaxgate menus check` reports them (gateway/ussd_menus/check.py)
    return errors + [row.problem() for row in report_flows(flows, lenient=bool(errors))
                     if not row.ok]


def latest_version(session: Session) -> MenuVersion | None:
    """The live published version, or None while the built-in menus are live."""
    return session.scalar(select(MenuVersion).order_by(MenuVersion.id.desc()).limit(1))


def list_versions(session: Session) -> list[MenuVersion]:
    """Every published version, newest first."""
    return list(session.scalars(select(MenuVersion).order_by(MenuVersion.id.desc())))


class MenuStore:
    """The live menus of one process, refreshed from SQL when another process publishes."""

    def __init__(self, db: Database, redis: Any, builtin: FlowSet, menu_dir: Path):
        self.db, self.redis = db, redis
        self.menu_dir = menu_dir
        self._by_version: dict[str, FlowSet] = {builtin.version: builtin}
        self._builtin = builtin
        self._live_id: int | None = None
        self._live = builtin
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def current(self) -> FlowSet:
        """The live FlowSet (checks for a newer published version at most once a second)."""
        now = time.monotonic()
        if now - self._checked_at >= CHECK_EVERY_SECONDS and self._lock.acquire(blocking=False):
            try:  # one thread checks; the others answer on the version they have meanwhile
                self._checked_at = now
                self._refresh()
            except Exception as exc:  # noqa: BLE001 - an outage must not stop the menus
                log.warning("menus: keeping version %s, cannot check for a newer one: %s",
                            self._live.version, exc.__class__.__name__)
            finally:
                self._lock.release()
        return self._live

    def get(self, version: str | None) -> FlowSet | None:
        """The FlowSet a session started on, loading it from SQL if this process lacks it."""
        if not version:
            return None
        if version not in self._by_version:
            try:
                files = self._files_of(version)
            except Exception as exc:  # noqa: BLE001 - fall back to the live menus
                log.warning("menus: cannot load version %s: %s", version, exc)
                return None
            if files is None:
                return None
            self._remember(files)
        return self._by_version.get(version)

    def _files_of(self, version: str) -> dict[str, str] | None:
        """The files of a published version, or None if no such version was published."""
        with self.db.read() as session:
            row = session.scalar(select(MenuVersion).where(MenuVersion.version == version)
                                 .order_by(MenuVersion.id.desc()).limit(1))
            return json.loads(row.files) if row else None

    def invalidate(self) -> None:
        """Check again on the next ``current()`` (this process just published)."""
        self._checked_at = 0.0

    def _refresh(self) -> None:
        live_id = self._live_id_now()
        if live_id == self._live_id:
            return
        if live_id == BUILTIN_ID:
            self._live, self._live_id = self._builtin, live_id
            return
        with self.db.read() as session:
            row = session.get(MenuVersion, live_id)
            files = json.loads(row.files) if row else None
        flows = self._remember(files) if files else None
        if flows is not None:
            self._live, self._live_id = flows, live_id
            log.info("menus: version %s (#%s) is live", flows.version, live_id)

    def _live_id_now(self) -> int:
        """The live version id: Redis first, SQL when Redis has no key (or is down)."""
        try:
            raw = self.redis.get(CURRENT_KEY)
            if raw is not None:
                return int(raw)
        except (RedisError, ValueError):
            log.warning("menus: Redis unavailable, asking SQL for the live version")
        with self.db.read() as session:
            live_id = session.scalar(select(func.max(MenuVersion.id))) or BUILTIN_ID
        self._announce(live_id, only_if_missing=True)
        return live_id

    def _announce(self, live_id: int, only_if_missing: bool = False) -> None:
        try:
            self.redis.set(CURRENT_KEY, live_id, nx=only_if_missing)
        except RedisError:
            log.warning("menus: could not set %s in Redis", CURRENT_KEY)

    def _remember(self, files: dict[str, str]) -> FlowSet | None:
        flows, errors = parse_files(files)
        if errors or flows is None:
            log.error("menus: a published version does not load: %s", errors[:3])
            return None
        self._by_version.setdefault(flows.version, flows)
        return self._by_version[flows.version]

    def publish(self, session: Session, files: dict[str, str], author: str,
                note: str = "") -> MenuVersion:
        """Store ``files`` (already checked) as the newest version; live once committed."""
        flows, errors = parse_files(files)
        if errors or flows is None:
            raise ValueError(f"cannot publish menus with errors: {errors[:3]}")
        row = MenuVersion(version=flows.version, files=json.dumps(files, ensure_ascii=False),
                          author=author, note=note[:200])
        session.add(row)
        session.flush()
        self._by_version.setdefault(flows.version, flows)
        return row

    def announce(self, version_id: int) -> None:
        """Tell every process (through Redis) that ``version_id`` is live; call after commit."""
        self._announce(version_id)
        self.invalidate()

    def live_files(self) -> dict[str, str]:
        """The files of the live version (the built-in ones while nothing is published)."""
        with self.db.read() as session:
            row = latest_version(session)
            return json.loads(row.files) if row else builtin_files(self.menu_dir)
