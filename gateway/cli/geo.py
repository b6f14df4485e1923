"""``vaxgate geo load`` (India Post's PIN-code directory into SQL) and ``vaxgate geo pin``."""
from __future__ import annotations

import click

from gateway.cli.common import echo_json, safe_url, settings_from


@click.group("geo")
def geo() -> None:
    """India's PIN-code directory (India Post, GODL-India)."""


def load_if_newer(settings) -> str:
    """Load the bundled directory when the database holds another build (a line saying
    what happened); ``vaxgate run`` and ``vaxgate db upgrade`` call it after migrating."""
    from gateway.geo import loader
    from gateway.storage import Database

    database = Database(settings.database_url, timeout_s=120)
    try:
        with database.write() as session:
            counts = loader.load(session)
    finally:
        database.dispose()
    if counts is None:
        return f"geo:      India Post PIN codes {loader.build_id()} (GODL-India)"
    return (f"geo:      loaded {counts['geo_pincodes']} PIN-code rows ({loader.build_id()}, "
            "India Post, GODL-India)")


@geo.command("load")
@click.option("--force", is_flag=True, help="Load even when this data is already loaded.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.pass_context
def load(ctx: click.Context, force: bool, as_json: bool) -> None:
    """Load the bundled directory (the migration loaded it once; run after an update)."""
    from gateway.geo import loader
    from gateway.storage import Database

    settings = settings_from(ctx)
    database = Database(settings.database_url, timeout_s=120)
    try:
        with database.write() as session:
            counts = loader.load(session, force=force)
    finally:
        database.dispose()
    described = loader.source()
    if as_json:
        echo_json({"loaded": counts, "build": loader.build_id(),
                   "attribution": described["attribution"]})
        return
    if counts is None:
        click.echo(f"geo: {loader.build_id()} is already loaded "
                   f"({safe_url(settings.database_url)})")
    else:
        click.echo(f"geo: loaded {counts['geo_pincodes']} PIN-code rows, "
                   f"{counts['geo_districts']} districts, {counts['geo_states']} states "
                   f"({loader.build_id()}); placed {counts['centers_placed']} centers")
    click.echo(described["attribution"])


@geo.command("pin")
@click.argument("pincode")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.pass_context
def pin(ctx: click.Context, pincode: str, as_json: bool) -> None:
    """Where PINCODE is: district, state, point (or that it does not exist)."""
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.geo import places
    from gateway.storage import Database

    url = settings_from(ctx).database_url
    database = Database(url)
    try:
        with database.read() as session:
            found = places.place_of(session, pincode)
            others = places.districts_of_pincode(session, pincode)[1:]
    except SQLAlchemyError as exc:  # e.g. a database not migrated yet: one line, no traceback
        raise click.ClickException(f"cannot read {safe_url(url)}: {getattr(exc, 'orig', exc)} "
                                   "(run `vaxgate db upgrade`)") from None
    finally:
        database.dispose()
    if found is None:
        raise click.ClickException(f"{pincode} is not a PIN code in India Post's directory")
    if as_json:
        echo_json({"pincode": found.pincode, "locality": found.locality,
                   "district": found.district, "also_districts": others,
                   "state": found.state, "latitude": found.latitude,
                   "longitude": found.longitude})
        return
    also = f" (also {', '.join(others)})" if others else ""
    click.echo(f"{found.pincode} {found.locality}: {found.district}{also}, {found.state} "
               f"at {found.latitude:.4f}, {found.longitude:.4f}")
