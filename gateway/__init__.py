"""vaxgate: register for vaccination and book a slot from any phone (USSD, IVR, SMS)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from gateway.config import ConfigError, Settings, load_settings
from gateway.infra.redis_clients import connect_redis_pair
from gateway.storage import SQL_INTEGER_MAX, Database
from gateway.web import request_body, security_headers
from gateway.web.runtime import Runtime
from gateway.web.webhook_security import MAX_REQUEST_BYTES, require_webhook_security

MENU_DIR = Path(__file__).resolve().parent / "ussd_menus"
log = logging.getLogger("vaxgate")


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the WSGI app. ``config`` is a Settings object, or overrides for config.yaml."""
    from gateway import wiring  # noqa: F401 - the features plug in once per process
    settings = config if isinstance(config, Settings) else load_settings(overrides=config)
    if not (settings.redis_url_for("session") and settings.redis_url_for("queue")):
        raise ConfigError("redis_url is empty: start the gateway with `vaxgate run` (which "
                          "starts an embedded redis-server) or set VAXGATE_REDIS_URL")
    require_webhook_security(settings)
    app = Flask(__name__)
    app.url_map.converters["int"] = SqlIntegerConverter  # before any route is added
    app.config.update(SECRET_KEY=settings.secret_key, TESTING=settings.testing,
                      MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)
    db = Database(settings.database_url, timeout_s=settings.ussd.step_budget_seconds,
                  replica_url=settings.database_replica_url)
    redis_client, queue_client = connect_redis_pair(settings)
    app.extensions["vaxgate"] = Runtime(
        settings=settings,
        db=db,
        redis=redis_client,
        menus=_menu_store(db, redis_client),
        admission=_admission(settings, redis_client),
        queue_redis=queue_client,
    )
    _register_blueprints(app)
    _mount_ussd(app)
    security_headers.install(app, settings.web)  # ProxyFix (if any) wraps the USSD path too
    request_body.install(app)
    return app


class SqlIntegerConverter(IntegerConverter):
    """``<int:...>`` in every route: ids past SQL INTEGER cannot exist, so the router answers
    404 for them instead of the database overflowing into a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", SQL_INTEGER_MAX)
        super().__init__(map, *args, **kwargs)


def load_menus():
    """Load and validate every menu under gateway/ussd_menus (raises MenuError)."""
    from gateway.flows import load_flows

    return load_flows(MENU_DIR)


def _menu_store(db: Database, redis_client: Any):
    """Live menus: the built-in ones until an admin publishes a version (kept in SQL)."""
    from gateway.admin.publishing import MenuStore

    return MenuStore(db, redis_client, load_menus(), MENU_DIR)


def _admission(settings: Settings, redis_client: Any):
    """The shared ceiling on concurrent USSD/IVR sessions (see gateway/sessions/admission.py)."""
    from gateway.sessions.admission import Admission

    return Admission.from_settings(redis_client, settings)


def _register_blueprints(app: Flask) -> None:
    from gateway.healthworkers import api as health_workers_api
    from gateway.ivr import webhooks as ivr_webhooks
    from gateway.reminders import api as reminders_api
    from gateway.sms import webhooks as sms_webhooks
    from gateway.sms.providers.gupshup import webhooks as gupshup_webhooks
    from gateway.web import health

    app.register_blueprint(health.bp)
    app.register_blueprint(sms_webhooks.bp)
    app.register_blueprint(gupshup_webhooks.bp)
    app.register_blueprint(ivr_webhooks.bp)
    app.register_blueprint(reminders_api.bp)
    app.register_blueprint(health_workers_api.bp)
    health.install_error_handlers(app)
    _register_console(app)


def _mount_ussd(app: Flask) -> None:
    """``/ussd/africastalking`` is a plain WSGI app in front of Flask: the hot path (see
    gateway/ussd_menus/adapter.py)."""
    from gateway.ussd_menus.adapter import FastPath, UssdEndpoint

    app.wsgi_app = FastPath(app.wsgi_app,  # type: ignore[method-assign]
                            UssdEndpoint(app.extensions["vaxgate"]))


def _register_console(app: Flask) -> None:
    """The admin console (/admin/), the JSON API (/api/v1) and the phone simulator."""
    from gateway.admin.web import install as install_admin
    from gateway.api.public import bp as public_api_bp
    from gateway.api.views import bp as api_bp
    from gateway.simulator.views import bp as simulator_bp

    install_admin(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(public_api_bp)  # keyless: /api/v1/public (no api() guard)
    app.register_blueprint(simulator_bp)
