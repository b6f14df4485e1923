"""``vaxgate sms templates check``: the SMS texts against their DLT registrations."""
from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.cli.commands import main
from gateway.sms import templates
from tests.sms.dlt_support import registered


def _check(*args, config=None):
    options = ["--config", str(config)] if config else []
    return CliRunner().invoke(main, [*options, "sms", "templates", "check", *args])


def test_the_shipped_templates_pass_in_the_sandbox_with_warnings_for_missing_ids():
    result = _check()
    assert result.exit_code == 0, result.output
    assert "booking_confirmed      hi   ucs2" in result.output
    assert "no dlt_template_id" in result.output and "template texts checked" in result.output


def test_json_lists_every_template_in_every_language():
    result = _check("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["dlt_enforced"] is False
    rows = {(t["template"], t["lang"]): t for t in report["templates"]}
    assert {lang for name, lang in rows if name == "reminder"} == {"en", "hi", "bn"}
    assert rows[("otp", "hi")]["encoding"] == "ucs2" and rows[("otp", "hi")]["segments"] == 1


def test_missing_dlt_ids_fail_once_the_deployment_has_an_entity_id(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text('sms:\n  dlt: {entity_id: "1101456789012345678", header: VAXGTE}\n')
    result = _check(config=config)
    assert result.exit_code != 0
    assert "error: otp.en: no dlt_template_id" in result.output
    assert "problem(s) in the SMS templates" in result.output


def test_registered_ids_pass_with_dlt_on_and_are_listed(tmp_path, monkeypatch):
    every = {(name, lang): f"110716123456789{n:04d}" for n, (name, lang) in enumerate(
        (name, lang) for name, texts in templates.CATALOGUE.entries.items() for lang in texts)}
    monkeypatch.setattr(templates, "CATALOGUE", registered(every))
    config = tmp_path / "config.yaml"
    config.write_text('sms:\n  dlt: {entity_id: "1101456789012345678", header: VAXGTE}\n')
    result = _check(config=config)
    assert result.exit_code == 0, result.output
    assert every[("otp", "en")] in result.output and "warning" not in result.output


def test_a_text_that_drifted_from_its_registration_fails_naming_it(monkeypatch):
    catalogue = registered({})
    entry = catalogue.entries["help"]["en"]
    catalogue.entries["help"]["en"] = type(entry)(entry.name, "en", entry.text + " Thanks!",
                                                  entry.dlt)
    monkeypatch.setattr(templates, "CATALOGUE", catalogue)
    result = _check()
    assert result.exit_code != 0
    assert "error: help.en: fixed text differs from the pattern" in result.output
