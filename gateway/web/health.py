"""Health endpoints (/healthz, /readyz, /metrics) and the last-resort error handlers."""
from __future__ import annotations

import logging
import os

from flask import Blueprint, Flask, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from gateway.infra.redis_clients import redis_problem
from gateway.sms import metrics as sms_metrics
from gateway.web.problems import code_of, problem
from gateway.web.runtime import get_runtime

bp = Blueprint("health", __name__)
READY_KEY = "vaxgate:readyz"  # written by every probe: a Redis that refuses writes is not ready
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is up (no dependencies checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database and Redis both accept a write; 503 naming the one that does not."""
    runtime = get_runtime()
    checks = {"database": _check(runtime.db.accepts_write),
              "redis": _redis_check(runtime, "session")}
    if runtime.queue_redis is not runtime.redis:
        checks["queue_redis"] = _redis_check(runtime, "queue")
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _redis_check(runtime, role: str) -> str:
    """ok, or the error's type and the setting that names this Redis (details in the log)."""
    client = runtime.redis if role == "session" else runtime.queue_redis
    problem = redis_problem(runtime.settings, role, client)
    if problem is None:
        return _check(lambda: client.set(READY_KEY, 1, ex=60))
    log.warning("readyz: Redis does not answer: %s", problem)
    return f"error: {problem.error} ({problem.setting})"


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"error: {type(exc).__name__}"


@bp.get("/metrics")
def metrics():
    """Prometheus metrics, aggregated across gunicorn workers in multiprocess mode."""
    _refresh_sms_gauges()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _refresh_sms_gauges() -> None:
    """SMS backlog, RQ queues and circuit states, read now (gateway/sms/metrics.py)."""
    runtime = get_runtime()
    try:
        sms_metrics.refresh(runtime.settings, runtime.db, runtime.redis, runtime.queue_redis)
    except Exception as exc:  # noqa: BLE001 - metrics must render even if SQL or Redis is down
        log.warning("metrics: SMS gauges not refreshed (%s)", type(exc).__name__)


def install_error_handlers(app: Flask) -> None:
    """HTTP errors answer problem details (RFC 9457, web/problems.py); anything unexpected
    is logged and answered without a traceback."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.response is not None:  # e.g. a rate-limit breach that built its own answer
            return exc.response
        return problem(exc.code or 500, code_of(exc.name), exc.description or exc.name,
                       title=exc.name)

    @app.errorhandler(RedisError)
    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _unavailable(exc: Exception):
        """Redis or the database did not answer (restarting, locked): 503, try again soon."""
        log.warning("dependency unavailable: %s", type(exc).__name__)
        response = problem(503, "service_unavailable",
                           "a dependency did not answer in time; try again shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(500, "internal_server_error", "something went wrong; it has been logged")
