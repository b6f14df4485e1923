"""Blueprint ``healthworkers_api``: health-worker accounts, CSV imports, the upstream backlog.

Same API keys and roles as the rest of /api/v1 (gateway.api.views.api); documented in
``openapi.py`` beside this file. A district key sees and changes only its district's
workers; imports and parked upstream events are for admin keys.

- ``GET/POST /api/v1/health-workers``, ``POST /api/v1/health-workers/<id>/unlock``,
  ``GET /api/v1/health-workers/<id>/actions`` (the audit trail)
- ``POST /api/v1/imports`` (body: the CSV, ``text/csv``; or a multipart ``file``)
- ``GET /api/v1/upstream/backlog``, ``GET /api/v1/upstream/events?status=parked``,
  ``POST /api/v1/upstream/events/<id>/resend``

The upstream backlog and circuit are also on ``/metrics`` (refreshed when it is scraped).
"""
from __future__ import annotations

import csv
import datetime as dt
import shutil
import tempfile
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, jsonify, request
from prometheus_client import Gauge
from redis.exceptions import RedisError
from sqlalchemy import select

from gateway.admin.audit import record as admin_audit
from gateway.api import pages
from gateway.api.auth import WRITERS, api
from gateway.api.errors import error
from gateway.healthworkers import accounts
from gateway.healthworkers.models import HealthWorker, HealthWorkerAction
from gateway.imports.registrations import ImportRefused, import_registrations
from gateway.registry.errors import InvalidField, NotFound
from gateway.storage.models import Center
from gateway.storage.outbox import EventStatus, UpstreamEvent
from gateway.upstream import delivery, sweeper
from gateway.upstream.breaker import CLOSED, HALF_OPEN, OPEN, Breaker
from gateway.web.runtime import get_runtime

bp = Blueprint("healthworkers_api", __name__, url_prefix="/api/v1")
ADMIN = ("admin",)
BACKLOG = Gauge("vaxgate_upstream_backlog_events", "Upstream events by status",
                ["status"], multiprocess_mode="mostrecent")
OLDEST = Gauge("vaxgate_upstream_oldest_pending_seconds", "Age of the oldest unsent event",
               multiprocess_mode="mostrecent")
CIRCUIT = Gauge("vaxgate_upstream_circuit_state",
                "The upstream registry's circuit: 0 closed, 1 half-open, 2 open",
                multiprocess_mode="mostrecent")
CIRCUIT_VALUES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


@bp.get("/health-workers")
@api()
def workers_list() -> Response:
    who, page = g.api_principal, pages.requested()
    query = select(HealthWorker)
    if who.scope is not None:  # a worker's state is her center's
        query = query.join(Center, Center.id == HealthWorker.center_id).where(
            who.within(Center.state, HealthWorker.district))
    with get_runtime().db.read() as session:
        rows = session.scalars(pages.after(query, HealthWorker.id, page)).all()
        return pages.answer("health_workers", rows, lambda w: accounts.describe(session, w),
                            page)


@bp.post("/health-workers")
@api(WRITERS)
def workers_create() -> Response:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error(400, "invalid", "a JSON object is required", field="body")
    fields = {k: data.get(k) for k in ("name", "phone", "center_code", "district")}
    for name in ("name", "phone", "center_code"):
        if not isinstance(fields[name], str) or not fields[name].strip():
            return error(400, "invalid", f"{name} is required", field=name)
    if fields["district"] is not None and not isinstance(fields["district"], str):
        return error(400, "invalid", "district must be text", field="district")
    try:
        with get_runtime().db.write() as session:
            if not _center_in_scope(session, fields["center_code"]):
                return error(403, "forbidden", "that center is outside your district")
            worker = accounts.create(session, **fields)
            view = accounts.describe(session, worker)
            admin_audit(session, g.api_principal.name, "health_worker.create",
                        f"health_worker:{worker.id}", None, view)
    except InvalidField as exc:
        return error(400, "invalid", exc.reason, field=exc.field)
    return jsonify({"health_worker": view}), 201


@bp.post("/health-workers/<int:worker_id>/unlock")
@api(WRITERS)
def workers_unlock(worker_id: int) -> Response:
    runtime = get_runtime()
    with runtime.db.write() as session:
        worker = _scoped_worker(session, worker_id)
        if worker is None:
            return error(404, "not_found", f"health worker {worker_id} not found")
        before = accounts.describe(session, worker)
        accounts.unlock(session, worker_id, daily=accounts.daily_failures(
            runtime.redis, runtime.settings.health_workers))
        view = accounts.describe(session, worker)
        admin_audit(session, g.api_principal.name, "health_worker.unlock",
                    f"health_worker:{worker_id}", before, view)
    return jsonify({"health_worker": view})


@bp.get("/health-workers/<int:worker_id>/actions")
@api()
def workers_actions(worker_id: int) -> Response:
    page = pages.requested()
    with get_runtime().db.read() as session:
        if _scoped_worker(session, worker_id) is None:
            return error(404, "not_found", f"health worker {worker_id} not found")
        query = select(HealthWorkerAction).where(HealthWorkerAction.worker_id == worker_id)
        rows = session.scalars(pages.after(query, HealthWorkerAction.id, page,
                                           newest_first=True)).all()
        return pages.answer("actions", rows, _action_dict, page)


def _action_dict(a: HealthWorkerAction) -> dict:
    return {"id": a.id, "action": a.action, "channel": a.channel, "phone": a.phone,
            "subject": a.subject, "detail": a.detail, "at": a.at.isoformat()}


@bp.post("/imports")
@api(ADMIN)
def imports_create() -> Response:
    runtime = get_runtime()
    request.max_content_length = runtime.settings.health_workers.import_max_megabytes << 20
    today = dt.datetime.now(ZoneInfo(runtime.settings.timezone)).date()
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as spool:
        upload = request.files.get("file")
        shutil.copyfileobj(upload.stream if upload else request.stream, spool)
        spool.seek(0)
        try:
            result = import_registrations(runtime.db, runtime.settings, spool, today=today)
        except ImportRefused as exc:
            return error(400, "invalid", str(exc), field=exc.field)
        except (csv.Error, UnicodeError) as exc:
            return error(400, "invalid", f"not a readable CSV file: {exc}", field="file")
    sweeper.enqueue_after_commit(runtime.queue_redis, runtime.settings, result.beneficiary_ids)
    return jsonify(result.as_dict())


@bp.get("/upstream/backlog")
@api()
def upstream_backlog() -> Response:
    who = g.api_principal
    return jsonify({**sweeper.backlog(get_runtime().db, district=who.scope,
                                      state=who.scope_state),
                    "configured": bool(get_runtime().settings.upstream.url)})


@bp.get("/upstream/events")
@api(ADMIN)
def upstream_events() -> Response:
    status = request.args.get("status", EventStatus.PARKED.value)
    if status not in {s.value for s in EventStatus}:
        return error(400, "invalid", "unknown status", field="status")
    page = pages.requested()
    query = select(UpstreamEvent).where(UpstreamEvent.status == status)
    with get_runtime().db.read() as session:
        rows = session.scalars(pages.after(query, UpstreamEvent.id, page)).all()
        return pages.answer("events", rows, _event_dict, page)


def _event_dict(e: UpstreamEvent) -> dict:
    return {"id": e.id, "kind": e.kind, "beneficiary_id": e.beneficiary_id,
            "status": e.status, "attempts": e.attempts, "last_error": e.last_error,
            "created_at": e.created_at.isoformat()}


@bp.post("/upstream/events/<int:event_id>/resend")
@api(ADMIN)
def upstream_resend(event_id: int) -> Response:
    runtime = get_runtime()
    if not delivery.resend(runtime.db, event_id):
        return error(404, "not_found", f"no parked event {event_id}")
    with runtime.db.write() as session:
        event = session.get(UpstreamEvent, event_id)
        admin_audit(session, g.api_principal.name, "upstream.resend", f"event:{event_id}")
        beneficiary_id = event.beneficiary_id
    sweeper.enqueue_after_commit(runtime.queue_redis, runtime.settings, [beneficiary_id])
    return jsonify({"id": event_id, "status": EventStatus.PENDING.value})


@bp.before_app_request
def _refresh_metrics() -> None:
    """Set the backlog gauges from SQL and the circuit's from Redis before /metrics renders."""
    if request.path != "/metrics":
        return
    runtime = get_runtime()
    try:
        CIRCUIT.set(CIRCUIT_VALUES[Breaker(runtime.redis, runtime.settings.upstream).state()])
    except RedisError:
        pass  # metrics must render even if Redis is down
    try:
        figures = sweeper.backlog(runtime.db)
    except Exception:  # noqa: BLE001 - metrics must render even if SQL is down
        return
    for status in ("pending", "parked", "sent", "not_required"):
        BACKLOG.labels(status).set(figures[status])
    OLDEST.set(figures["oldest_pending_age_seconds"] or 0)


def _center_in_scope(session, center_code: str) -> bool:
    center = session.scalar(select(Center).where(Center.code == center_code.strip()))
    return center is None or g.api_principal.sees(center.state, center.district)


def _scoped_worker(session, worker_id: int):
    try:
        worker = accounts.get(session, worker_id)
    except NotFound:
        return None
    center = session.get(Center, worker.center_id)
    state = center.state if center is not None else None
    return worker if g.api_principal.sees(state, worker.district) else None
