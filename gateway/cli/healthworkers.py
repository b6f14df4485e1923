"""``vaxgate healthworker create|list|unlock`` and ``vaxgate import registrations FILE``."""
from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import click

from gateway.cli.common import echo_json, settings_from

JSON_OPTION = click.option("--json", "as_json", is_flag=True,
                           help="Print the result as JSON (for scripts).")


@contextmanager
def _database(ctx: click.Context):
    from gateway.storage import Database

    settings = settings_from(ctx)
    database = Database(settings.database_url)
    try:
        yield settings, database
    finally:
        database.dispose()


@click.group("healthworker")
def healthworker() -> None:
    """Health-worker (ASHA/ANM) accounts."""


@healthworker.command("create")
@click.option("--name", required=True)
@click.option("--phone", required=True, help="Their mobile number (E.164 or 10 digits).")
@click.option("--center", "center_code", required=True, help="Center code, e.g. DEMO002.")
@click.option("--district", default=None, help="Default: the center's district.")
@click.pass_context
def create(ctx: click.Context, name: str, phone: str, center_code: str,
           district: str | None) -> None:
    """Create an account; the worker sets a PIN on first dial."""
    from gateway.healthworkers import accounts
    from gateway.registry.errors import InvalidField

    with _database(ctx) as (_, db):
        try:
            with db.write() as session:
                worker = accounts.create(session, name=name, phone=phone,
                                         center_code=center_code, district=district)
                click.echo(_line(accounts.describe(session, worker)))
        except InvalidField as exc:
            raise click.BadParameter(exc.reason, param_hint=f"--{exc.field}") from None


@healthworker.command("list")
@JSON_OPTION
@click.pass_context
def list_workers(ctx: click.Context, as_json: bool) -> None:
    """Every account, with its center and whether it is locked."""
    from gateway.healthworkers import accounts

    with _database(ctx) as (_, db), db.read() as session:
        views = [accounts.describe(session, worker) for worker in accounts.list_all(session)]
    if as_json:
        echo_json(views)
        return
    for view in views:
        click.echo(_line(view))


@healthworker.command("unlock")
@click.argument("worker_id", type=int)
@click.pass_context
def unlock(ctx: click.Context, worker_id: int) -> None:
    """End a PIN lock early (and reset the 24-hour wrong-PIN count when Redis answers)."""
    from gateway.healthworkers import accounts
    from gateway.registry.errors import NotFound

    with _database(ctx) as (settings, db):
        daily, why = _daily_pin_counter(settings)
        try:
            with db.write() as session:
                click.echo(_line(accounts.describe(session, accounts.unlock(
                    session, worker_id, daily=daily))))
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
    if why:
        click.echo(f"note: the 24-hour wrong-PIN count was not reset ({why}); it ends by "
                   "itself within a day, or run this again while the gateway's Redis runs",
                   err=True)


def _daily_pin_counter(settings):
    """(the 24-hour wrong-PIN counter, "") or (None, why it cannot be reached)."""
    from gateway.config import ConfigError
    from gateway.healthworkers import accounts
    from gateway.infra.redis_clients import connect_role, redis_problem

    if not settings.redis_url_for("session"):
        return None, "no Redis configured: set VAXGATE_REDIS_URL"
    try:
        conn = connect_role(settings, "session")
    except ConfigError as exc:
        return None, str(exc)
    problem = redis_problem(settings, "session", conn)
    if problem:
        return None, f"Redis did not answer: {problem.error}"
    return accounts.daily_failures(conn, settings.health_workers), ""


def _line(view: dict) -> str:
    lock = f"LOCKED until {view['locked_until']}" if view["locked"] else "unlocked"
    pin = "PIN set" if view["pin_set"] else "no PIN yet"
    return (f"{view['id']:>5}  {view['name']:<24} {view['phone']:<14} {view['center_code']} "
            f"({view['district']})  {pin}, {lock}")


@click.group("import")
def import_group() -> None:
    """Bring paper records in."""


@import_group.command("registrations")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@JSON_OPTION
@click.pass_context
def registrations(ctx: click.Context, path: str, as_json: bool) -> None:
    """Import a CSV of paper registrations (and vaccinations done on paper).

    Columns: name, birth_year, gender, phone, pincode; optional id_type, id_last4,
    vaccinated_on, center_code, dose. UTF-8, UTF-8 with BOM or Windows-1252. Running it
    again with the same file changes nothing.
    """
    from gateway.imports.registrations import ImportRefused, import_registrations

    size = os.path.getsize(path) or 1

    def progress(rows: int, read: int) -> None:
        click.echo(f"  {rows} rows read ({100 * read // size}%)", err=True)

    with _database(ctx) as (settings, db), open(path, "rb") as stream:
        today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
        try:
            result = import_registrations(db, settings, stream, today=today,
                                          progress=progress)
        except ImportRefused as exc:
            raise click.ClickException(f"{path}: {exc}") from None
    if as_json:
        echo_json({"rows": result.rows, "encoding": result.encoding,
                   "registered": result.registered, "duplicates": result.duplicates,
                   "vaccinations": result.vaccinations,
                   "rejected": [{"line": line, "reason": reason}
                                for line, reason in result.rejected]})
        return
    for line, reason in result.rejected:
        click.echo(f"line {line}: {reason}")
    click.echo(f"{result.rows} rows ({result.encoding}): {result.registered} registered, "
               f"{result.duplicates} already known, {result.vaccinations} paper vaccinations, "
               f"{len(result.rejected)} rejected")
