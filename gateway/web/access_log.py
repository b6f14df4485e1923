"""gunicorn's access log without the requests nobody reads: static files, health checks,
metrics scrapes and the phone simulator's inbox poll (every 5 s per open simulator page).

``vaxgate run`` passes ``--logger-class gateway.web.access_log.QuietAccessLog`` (under
granian, a ``--log-config`` with :class:`RoutineFilter`); ``vaxgate run --access-log`` and
the Procfile log every request.
"""
from __future__ import annotations

import logging

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


class RoutineFilter(logging.Filter):
    """The same rule for granian's access log (``vaxgate run --server granian``), whose lines
    are records of the ``granian.access`` logger with the request's fields as ``args``."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.args if isinstance(record.args, dict) else {}
        return int(fields.get("status") or 0) >= 400 or not is_routine(str(fields.get("path")))


def granian_log_config(quiet: bool) -> dict:
    """granian's ``--log-config``: its own defaults but errors on stderr (one line per request
    on stdout), with routine requests left out when ``quiet``."""
    access = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
              "formatter": "plain", **({"filters": ["routine"]} if quiet else {})}
    return {"version": 1, "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "%(message)s"},
                           "generic": {"format": "[%(levelname)s] %(message)s"}},
            "filters": {"routine": {"()": f"{__name__}.RoutineFilter"}},
            "handlers": {"console": {"class": "logging.StreamHandler",  # errors: as gunicorn's
                                     "stream": "ext://sys.stderr", "formatter": "generic"},
                         "access": access},
            "loggers": {"_granian": {"handlers": ["console"], "level": "INFO",
                                     "propagate": False},
                        "granian.access": {"handlers": ["access"], "level": "INFO",
                                           "propagate": False}}}
