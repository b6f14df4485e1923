"""The ``vaxgate`` command line: run, worker, db upgrade|current|downgrade, menus check,
sms templates check, demo-data, admin, dial. Commands that report take ``--json``."""
from __future__ import annotations

import sys

import click

from gateway.cli.common import (
    DEFAULT_PORT,
    URL_HELP,
    WEB_SERVERS,
    echo_json,
    gateway_url,
    load_demo_if_empty,
    safe_url,
    settings_from,
)
from gateway.config import ConfigError, Settings

JSON_HELP = "Print the result as JSON (for scripts)."


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Settings file (default: $VAXGATE_CONFIG or ./config.yaml).")
@click.version_option(package_name="vaxgate", prog_name="vaxgate")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """vaxgate: vaccination registration and booking over USSD, IVR and SMS."""
    ctx.obj = {"config": config_path}
    from gateway import wiring  # noqa: F401 - the features plug in (actions, commands)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply all database migrations (safe to run again)."""
    from gateway.storage import upgrade_database

    settings = settings_from(ctx)
    upgrade_database(settings.database_url)
    click.echo(f"database is at the newest schema: {safe_url(settings.database_url)}")
    from gateway.cli.geo import load_if_newer

    click.echo(load_if_newer(settings))


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def db_current(ctx: click.Context, as_json: bool) -> None:
    """Show the database's migration revision and the newest one."""
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.storage.database import schema_revisions

    url = settings_from(ctx).database_url
    try:
        current, newest = schema_revisions(url)
    except SQLAlchemyError as exc:
        raise click.ClickException(f"cannot read {safe_url(url)}: "
                                   f"{getattr(exc, 'orig', exc)}") from None
    if as_json:
        echo_json({"database": safe_url(url), "current": current, "newest": newest,
                   "up_to_date": current == newest})
    elif current == newest:
        click.echo(f"{current} (the newest): {safe_url(url)}")
    else:
        click.echo(f"{current or 'empty'}, newest is {newest}: run `vaxgate db upgrade` "
                   f"({safe_url(url)})")


@db.command("downgrade")
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def db_downgrade(ctx: click.Context, revision: str, yes: bool) -> None:
    """Undo migrations down to REVISION (e.g. 0007; `base` undoes them all).

    Columns and tables the undone migrations added are dropped, with their data."""
    from alembic.util import CommandError

    from gateway.storage.database import downgrade_database

    url = settings_from(ctx).database_url
    if not yes:
        click.confirm(f"Downgrade {safe_url(url)} to {revision}, dropping what later "
                      "migrations added?", abort=True)
    try:
        downgrade_database(url, revision)
    except CommandError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database downgraded to {revision}: {safe_url(url)}")


@main.command("demo-data")
@click.option("--force", is_flag=True, help="Load even if centers already exist.")
@click.pass_context
def demo_data(ctx: click.Context, force: bool) -> None:
    """Load demo centers and 7 days of slots (only into an empty database unless --force)."""
    click.echo(load_demo_if_empty(settings_from(ctx), force=force))


@main.group()
def menus() -> None:
    """Menu (YAML) commands."""


@menus.command("check")
@click.option("--dir", "menu_dir", type=click.Path(file_okay=False, exists=True),
              help="Menu folder (default: the built-in gateway/ussd_menus).")
@click.option("--verbose", "-v", is_flag=True, help="List every voice prompt without audio.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def menus_check(ctx: click.Context, menu_dir: str | None, verbose: bool,
                as_json: bool) -> None:
    """Validate every menu: targets, translations, reachability, screen length limits; list
    voice prompts with neither a TTS voice nor a recording (warnings)."""
    from gateway import MENU_DIR
    from gateway.registry.actions import ACTIONS
    from gateway.ussd_menus.check import check_menus

    errors = check_menus(menu_dir or MENU_DIR, set(ACTIONS))
    gaps: list = []
    if not errors:
        voice_errors, gaps = _voice_report(ctx, menu_dir or MENU_DIR)
        errors += voice_errors
    if as_json:
        echo_json({"ok": not errors, "errors": list(map(str, errors)),
                   "voice_gaps": list(map(str, gaps))})
        ctx.exit(1 if errors else 0)
    for error in errors:
        click.echo(error, err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} problem(s) in the menus")
    _voice_warnings(gaps, verbose)
    click.echo("menus OK: every screen of every journey fits in en, hi and bn")


def _voice_report(ctx: click.Context, menu_dir) -> tuple[list, list]:
    """(errors, warnings) of the voice channel per provider (gateway.ussd_menus.check)."""
    from gateway.flows import load_flows
    from gateway.ivr.recordings import audio_folder
    from gateway.ussd_menus.check import voice_report

    ivr = settings_from(ctx).ivr
    return voice_report(load_flows(menu_dir), ivr, audio_folder(ivr))


def _voice_warnings(gaps: list, verbose: bool) -> None:
    """Warn about voices we cannot vouch for and prompts that would be spoken in English."""
    for gap in gaps if verbose else gaps[:3]:
        click.echo(f"warning: {gap}", err=True)
    if gaps:
        more = "" if verbose else "; `vaxgate menus check -v` lists them all"
        click.echo(f"warning: {len(gaps)} voice warning(s): prompts with no voice and no "
                   f"recording are spoken in English (see docs/ivr.md){more}", err=True)


@menus.command("recordings")
@click.option("--lang", "languages", multiple=True, type=click.Choice(["en", "hi", "bn"]),
              help="Only this language (repeatable; default: all three).")
@click.option("--only", default="", help="Only keys starting with this, e.g. main.")
@click.pass_context
def menus_recordings(ctx: click.Context, languages: tuple[str, ...], only: str) -> None:
    """Record every voice prompt of the live menus in every language with espeak-ng, into
    ivr.audio_dir/generated/<menu version>/ (kept when already built)."""
    from gateway.flows import load_flows
    from gateway.ivr import recordings

    if not recordings.engine_available():
        raise click.ClickException("espeak-ng is not installed (Debian: apt-get install "
                                   "espeak-ng, or `make voice-deps`)")
    from gateway import MENU_DIR

    ivr = settings_from(ctx).ivr
    result = recordings.build(load_flows(MENU_DIR), recordings.audio_folder(ivr),
                              languages or ("en", "hi", "bn"), (only,) if only else ())
    click.echo(f"{result.made} recording(s) made, {result.kept} already there: {result.folder}")


@main.group()
def admin() -> None:
    """Admin console (/admin/) users."""


@admin.command("create-user")
@click.option("--username", prompt=True, help="Sign-in name (lower case).")
@click.option("--role", type=click.Choice(["admin", "district", "viewer"]), default="admin",
              show_default=True)
@click.option("--district", default=None, help="The district a district user manages.")
@click.option("--state", default=None,
              help="The district's state (needed when two states have a district so named).")
@click.password_option(envvar="VAXGATE_ADMIN_PASSWORD",
                       help="At least 10 characters (or $VAXGATE_ADMIN_PASSWORD).")
@click.pass_context
def admin_create_user(ctx: click.Context, username: str, role: str, district: str | None,
                      state: str | None, password: str) -> None:
    """Create a user who can sign in to the admin console."""
    from gateway.admin.auth import UserError
    from gateway.admin.bootstrap import add_user

    try:
        click.echo(add_user(settings_from(ctx), username, password, role, district, state))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


@admin.command("reactivate")
@click.argument("username")
@click.pass_context
def admin_reactivate(ctx: click.Context, username: str) -> None:
    """Let a deactivated or locked-out user sign in again."""
    from gateway.admin.auth import UserError
    from gateway.admin.bootstrap import reactivate_user

    try:
        click.echo(reactivate_user(settings_from(ctx), username))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


@admin.command("reset-password")
@click.argument("username")
@click.password_option(envvar="VAXGATE_ADMIN_PASSWORD",
                       help="At least 10 characters (or $VAXGATE_ADMIN_PASSWORD).")
@click.pass_context
def admin_reset_password(ctx: click.Context, username: str, password: str) -> None:
    """Set a user's password (ends their sessions, clears a lock-out)."""
    from gateway.admin.auth import UserError
    from gateway.admin.bootstrap import reset_password

    try:
        click.echo(reset_password(settings_from(ctx), username, password))
    except UserError as exc:
        raise click.ClickException(str(exc)) from None


@admin.command("show-demo")
@click.option("--url", default=None, help=URL_HELP)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def admin_show_demo(url: str | None, as_json: bool) -> None:
    """Print the demo admin's credentials that `vaxgate run` created and keeps."""
    from gateway.admin.bootstrap import demo_credentials
    from gateway.cli.common import DEMO_CREDENTIALS, VAR_DIR

    path = VAR_DIR / DEMO_CREDENTIALS
    kept = demo_credentials(path)
    if kept is None:
        raise click.ClickException(
            f"no demo credentials in {path}: `vaxgate run` keeps them there when it creates "
            "the demo admin (on a database without users); add users with "
            "`vaxgate admin create-user`")
    console = f"{gateway_url(url)}/admin/"
    if as_json:
        echo_json({"console": console, "username": kept[0], "password": kept[1],
                   "file": str(path)})
    else:
        click.echo(f"sign in at {console} as {kept[0]} / {kept[1]}  (demo credentials, "
                   f"kept in {path})")


@main.command()
@click.option("--port", type=int, envvar="PORT", default=DEFAULT_PORT, show_default=True,
              help="Web port ($PORT).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--web-workers", type=int, default=2, show_default=True)
@click.option("--sms-workers", type=int, default=1, show_default=True)
@click.option("--access-log", is_flag=True,
              help="Log every request, static files and the simulator's polling included.")
@click.option("--server", type=click.Choice(WEB_SERVERS), default=WEB_SERVERS[0],
              show_default=True,
              help="The web server: granian answers a USSD step at about a third less CPU "
                   "(docs/deploy.md).")
@click.pass_context
def run(ctx: click.Context, port: int, host: str, web_workers: int, sms_workers: int,
        access_log: bool, server: str) -> None:
    """Migrate, load demo data if empty, and run web + worker (embedded Redis if none set)."""
    from gateway.cli.launcher import Launcher
    from gateway.web.webhook_security import require_webhook_security

    settings = settings_from(ctx)
    try:
        require_webhook_security(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    Launcher(settings, host=host, port=port, web_workers=web_workers,
             sms_workers=sms_workers, config_path=ctx.obj.get("config"),
             access_log=access_log, server=server).run()


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--cron/--no-cron", default=True, show_default=True,
              help="Also enqueue the scheduled jobs (safe on every node: one run per slot).")
@click.option("--quiet", is_flag=True,
              help="RQ's own lines (start-up, each job) only from WARNING up; the gateway's "
                   "lines (SMS sent, scheduled jobs that did something) stay.")
@click.pass_context
def worker(ctx: click.Context, burst: bool, cron: bool, quiet: bool) -> None:
    """Run an RQ worker on the otp, notify and bulk queues (in that priority)."""
    settings = _redissettings_from(ctx, "a worker")
    from gateway.infra.logs import configure_logging
    from workers.worker import main as run_worker

    configure_logging()
    run_worker(settings, burst=burst, cron=cron, logging_level="WARNING" if quiet else "INFO")


@main.command()
@click.pass_context
def cron(ctx: click.Context) -> None:
    """Enqueue the scheduled jobs (sweepers, reminders, waitlist, turns) until stopped."""
    settings = _redissettings_from(ctx, "cron")
    from workers.worker import cron_main

    cron_main(settings)


def _redissettings_from(ctx: click.Context, what: str) -> Settings:
    """Settings whose session and queue Redis both answer; else a one-line error naming the
    setting (a wrong password, an unreachable host...)."""
    from gateway.infra.redis_clients import redis_problems

    settings = settings_from(ctx)
    if not (settings.redis_url_for("session") and settings.redis_url_for("queue")):
        raise click.ClickException(f"set VAXGATE_REDIS_URL (or redis_url) to run {what} "
                                   "on its own; `vaxgate run` starts one for you")
    problems = redis_problems(settings)
    if problems:
        raise click.ClickException("Redis does not answer: " + "; ".join(map(str, problems)))
    return settings


@main.command()
@click.option("--url", default=None, help=URL_HELP)
@click.option("--phone", default="+919876543210", show_default=True)
@click.option("--code", "service_code", default=None, help="Short code (default: config's first).")
@click.pass_context
def dial(ctx: click.Context, url: str | None, phone: str, service_code: str | None) -> None:
    """Walk a USSD session against a running gateway from this terminal (answers from
    stdin; at its end, the call hangs up)."""
    from gateway.cli.dialer import Dialer

    code = service_code or settings_from(ctx).ussd.service_codes[0]
    sys.exit(Dialer(gateway_url(url), phone, code).run_interactive())


@main.group()
def retention() -> None:
    """Personal data past its retention (settings: retention.* in config.yaml)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be removed; change nothing.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Remove old SMS texts, recordings, audit rows and stray session keys; print counts."""
    from gateway.infra.redis_clients import connect_redis
    from gateway.storage import Database
    from gateway.storage.retention import apply_retention

    settings = settings_from(ctx)
    url = settings.redis_url_for("session")
    counts = apply_retention(Database(settings.database_url),
                             connect_redis(url) if url else None, settings.retention,
                             dry_run=dry_run)
    if as_json:
        echo_json({"dry_run": dry_run, "removed": counts,
                   "sessions_skipped": "sessions" not in counts})
        return
    verb = "would remove" if dry_run else "removed"
    for kind, count in counts.items():
        click.echo(f"{kind}: {verb} {count}")
    if "sessions" not in counts:
        click.echo("sessions: skipped (no redis_url; sessions expire on their own)")



from gateway.cli.geo import geo  # noqa: E402
from gateway.cli.healthworkers import healthworker, import_group  # noqa: E402
from gateway.cli.sms import sms  # noqa: E402

main.add_command(geo)  # geo load, geo pin
main.add_command(healthworker)
main.add_command(import_group)
main.add_command(sms)  # sms templates check


if __name__ == "__main__":
    main()
