"""``vaxgate sms templates check``: the SMS texts against their DLT registrations."""
from __future__ import annotations

import json

import click

from gateway.cli.common import settings_from


@click.group()
def sms() -> None:
    """SMS commands."""


@sms.group()
def templates() -> None:
    """SMS template commands (gateway/sms/templates.yaml)."""


@templates.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--verbose", "-v", is_flag=True, help="List every warning.")
@click.pass_context
def templates_check(ctx: click.Context, as_json: bool, verbose: bool) -> None:
    """Render every template in every language with sample values and check it against its
    registered DLT pattern ({#var#} places, fixed text, 30 characters per {#var#}); report
    lengths and segments. A missing DLT template id is an error once DLT applies (a real
    provider or sms.dlt.entity_id), a warning in the sandbox."""
    from gateway.sms import dlt
    from gateway.sms.template_check import check_catalogue
    from gateway.sms.templates import CATALOGUE

    sms_settings = settings_from(ctx).sms
    checked = check_catalogue(CATALOGUE, sms_settings)
    errors = sum(len(c.errors) for c in checked)
    if as_json:
        click.echo(json.dumps({"ok": not errors, "dlt_enforced": dlt.is_enforced(sms_settings),
                               "templates": [c.as_dict() for c in checked]},
                              ensure_ascii=False, indent=2))
    else:
        _print_report(checked, verbose)
    if errors:
        raise click.ClickException(f"{errors} problem(s) in the SMS templates")


def _print_report(checked, verbose: bool) -> None:
    click.echo(f"{'template':<22} {'lang':<4} {'enc':<4} {'chars':>5} {'segs':>4}  dlt id")
    for c in checked:
        click.echo(f"{c.template:<22} {c.lang:<4} {c.encoding:<4} {c.length:>5} "
                   f"{c.segments:>4}  {c.dlt_template_id or '-'}")
    for c in checked:
        for error in c.errors:
            click.echo(f"error: {c.template}.{c.lang}: {error}", err=True)
    warnings = [f"{c.template}.{c.lang}: {w}" for c in checked for w in c.warnings]
    for warning in warnings if verbose else warnings[:3]:
        click.echo(f"warning: {warning}", err=True)
    if len(warnings) > 3 and not verbose:
        click.echo(f"warning: {len(warnings)} warning(s) in all; "
                   "`vaxgate sms templates check -v` lists them", err=True)
    click.echo(f"{len(checked)} template texts checked")
