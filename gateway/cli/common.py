"""What every command shares: reading the settings, hiding passwords, loading demo data,
finding the running gateway, printing JSON for scripts."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from gateway.config import PROJECT_DIR, ConfigError, Settings, load_settings

# Runtime files (embedded Redis socket, metrics, demo credentials); VAXGATE_VAR_DIR moves them.
VAR_DIR = Path(os.environ.get("VAXGATE_VAR_DIR") or PROJECT_DIR / "var")
DEMO_CREDENTIALS = "demo-admin.txt"  # under VAR_DIR, mode 0600 (gateway/admin/bootstrap.py)
DEFAULT_PORT = 8000
WEB_SERVERS = ("gunicorn", "granian")  # `vaxgate run --server`, the first the default
URL_HELP = ("The running gateway (default: $VAXGATE_URL, else http://127.0.0.1:$PORT, "
            f"else port {DEFAULT_PORT}).")


def settings_from(ctx: click.Context) -> Settings:
    """The settings named by ``--config`` (or the default file); a config error is one line."""
    try:
        return load_settings(ctx.obj.get("config"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def safe_url(url: str) -> str:
    """A database URL with any password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def load_demo_if_empty(settings: Settings, force: bool = False) -> str:
    """Load the demo data when there are no centers; return a line saying what happened."""
    from gateway.registry.demo_data import has_centers, load_demo_data
    from gateway.storage import Database

    database = Database(settings.database_url)
    try:
        with database.write() as session:
            if has_centers(session) and not force:
                return "demo data: centers already present, nothing loaded"
            today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
            counts = load_demo_data(session, today, days=settings.booking.days_ahead)
        return ("demo data: loaded {centers} centers, {slots} slots, {places} places "
                "in Bihar, Uttar Pradesh, West Bengal and Chhattisgarh".format(**counts))
    finally:
        database.dispose()


def gateway_url(url: str | None = None) -> str:
    """Where the running gateway answers: ``url``, else $VAXGATE_URL, else $PORT on
    127.0.0.1 (what ``PORT=8100 make run`` listens on), else port 8000."""
    chosen = url or os.environ.get("VAXGATE_URL") or \
        f"http://127.0.0.1:{os.environ.get('PORT') or DEFAULT_PORT}"
    return chosen.rstrip("/")


def echo_json(data: object) -> None:
    """Print ``data`` as one JSON document (the ``--json`` output of reporting commands)."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
