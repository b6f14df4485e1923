"""gunicorn's access log without the requests nobody reads: static files, health checks,
metrics scrapes and the phone simulator's inbox poll (every 5 s per open simulator page).

``vaxgate run`` passes ``--logger-class gateway.web.access_log.QuietAccessLog``;
``vaxgate run --access-log`` and the Procfile log every request.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

POLLED_PATHS = frozenset({"/simulator/inbox", "/healthz", "/readyz", "/metrics"})


def is_routine(path: str) -> bool:
    """True for a static file (``/static/…``, ``/admin/static/…``) or a polled path."""
    return "/static/" in path or path in POLLED_PATHS


class QuietAccessLog(Logger):
    """gunicorn's logger, leaving routine requests out of the access log (failures stay)."""

    def access(self, resp, req, environ, request_time) -> None:
        """Log the request unless it is routine and succeeded."""
        failed = (getattr(resp, "status_code", None) or 0) >= 400
        if failed or not is_routine(environ.get("PATH_INFO", "")):
            super().access(resp, req, environ, request_time)
