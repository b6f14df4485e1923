"""What every command shares: reading the settings, hiding passwords, loading demo data."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import click

from gateway.config import ConfigError, Settings, load_settings


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
