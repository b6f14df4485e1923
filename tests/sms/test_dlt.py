"""India's DLT rules: templates in data, the deployment's DLT identity, the check, and the
refusal of a message to +91 whose template has no registered id."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from gateway.config import ConfigError, SmsRouteSettings, load_settings
from gateway.sms import dlt, outbox, templates
from gateway.sms.errors import TemplateError
from gateway.sms.router import Router
from gateway.sms.template_check import check_catalogue
from gateway.sms.templates import Catalogue, Entry, load_catalogue
from gateway.storage.ledger import Message, SandboxMessage
from workers import jobs
from workers.worker import build_context

from .dlt_support import (
    CONFIRMED_EN_ID,
    ENTITY_ID,
    GUPSHUP_ENV,
    HEADER,
    dlt_settings,
    gupshup_config,
    registered,
)
from .fake_gupshup import FakeGupshup
from .support import PHONE, provider_config, run_worker

DOCS = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
MATCHES = [  # pattern, text, an operator accepts it
    ("Ref {#var#}. Bring ID.", "Ref K7QP3M. Bring ID.", True),
    ("Ref {#var#}. Bring ID.", "Ref K7QP3M. Bring your ID.", False),  # fixed text differs
    ("Ref {#var#}. Bring ID.", "Ref " + "x" * 31 + ". Bring ID.", False),  # 31 > 30
    ("At {#var#}{#var#}.", "At " + "x" * 60 + ".", True),  # two in a row: 60
    ("At {#var#}{#var#}.", "At " + "x" * 61 + ".", False),
    ("{#var#} is your code", "482913 is your code", True),
    ("संदर्भ {#var#}।", "संदर्भ AB12CD।", True),
]


@pytest.fixture
def ids(monkeypatch):
    """The shipped texts with a DLT id for booking_confirmed in English only."""
    catalogue = registered({("booking_confirmed", "en"): CONFIRMED_EN_ID})
    monkeypatch.setattr(templates, "CATALOGUE", catalogue)
    return catalogue


@pytest.fixture
def fake_gupshup():
    server = FakeGupshup().start()
    yield server
    server.stop()


@pytest.fixture
def gupshup_ctx(settings, fake_gupshup, redis_client, db, monkeypatch):
    for var, value in GUPSHUP_ENV.items():
        monkeypatch.setenv(var, value)
    context = build_context(dlt_settings(settings, [gupshup_config(fake_gupshup.url)]),
                            redis_client)
    yield context
    jobs.install(None)


def _record(db, body, phone=PHONE, key="dlt-1") -> int:
    with db.write() as session:
        return outbox.record_message(session, phone=phone, kind="confirmation", body=body,
                                     budget=None, lang=getattr(body, "lang", "en"),
                                     dedupe_key=key).id


def _send(ctx, db, body, phone=PHONE) -> Message:
    mid = _record(db, body, phone)
    outbox.enqueue_messages(ctx.redis, [mid], queue="notify", settings=ctx.settings.sms)
    run_worker(ctx)
    with db.read() as session:
        return session.get(Message, mid)


def _confirmed(lang="en"):
    return templates.render("booking_confirmed", lang, reference="AB12CD", center="PHC Rampur",
                            date=dt.date(2026, 5, 12), window=(dt.time(9), dt.time(11)))


# ---- patterns and templates -----------------------------------------------------------

@pytest.mark.parametrize(("pattern", "text", "accepted"), MATCHES)
def test_a_text_matches_its_pattern_as_an_operator_would(pattern, text, accepted):
    assert dlt.matches(pattern, text) is accepted


def test_every_shipped_template_renders_within_its_registered_pattern():
    checked = check_catalogue(templates.CATALOGUE, load_settings(overrides={}).sms)
    assert checked and all(c.errors == [] for c in checked), [
        (c.template, c.lang, c.errors) for c in checked if c.errors]
    assert {c.lang for c in checked} == {"en", "hi", "bn"}


def test_a_rendered_text_knows_its_template_and_language():
    text = _confirmed("xx")  # an unsupported language falls back to English
    assert isinstance(text, str) and "AB12CD" in text
    assert (text.template, text.lang) == ("booking_confirmed", "en")


def test_render_names_an_unknown_template_or_a_missing_variable():
    with pytest.raises(TemplateError, match="nope"):
        templates.render("nope", "en")
    with pytest.raises(TemplateError, match="reference"):
        templates.render("booking_cancelled", "en", center="PHC", date="Mon 23 Nov")


def test_a_variable_too_long_for_its_dlt_place_is_shortened_to_fit():
    center = "Community Health Centre Bishnupur Block, Near the Old Bus Stand, Ward 12"
    text = templates.render("booking_confirmed", "hi", reference="AB12CD", center=center,
                            date=dt.date(2026, 5, 12), window=(dt.time(9), dt.time(11)))
    assert f", {center[:57]}..., " in text  # two {#var#}: 60 characters
    assert dlt.matches(templates.CATALOGUE.entry("booking_confirmed", "hi").dlt, text)


def test_the_ledger_records_the_template_and_its_dlt_id(db, ids):
    mid = _record(db, _confirmed())
    other = _record(db, templates.render("started", "hi"), key="dlt-2")
    plain = _record(db, "typed by hand", key="dlt-3")
    with db.read() as session:
        rows = {m: session.get(Message, m) for m in (mid, other, plain)}
    assert (rows[mid].template, rows[mid].dlt_template_id) == ("booking_confirmed",
                                                                CONFIRMED_EN_ID)
    assert (rows[other].template, rows[other].dlt_template_id) == ("started", None)
    assert (rows[plain].template, rows[plain].dlt_template_id) == (None, None)


@pytest.mark.parametrize(("content", "named"), [
    ("templates: {otp: {hi: {text: x}}}", "every template needs 'en'"),
    ("templates: {otp: {en: {text: x, dlt_id: 1}}}", "templates.otp.en.dlt_id"),
    ("templates: {otp: {en: {text: x, dlt_template_id: 11a}}}", "dlt_template_id"),
    ("templates: {otp: {ta: {text: x}}}", "templates.otp.ta"),
    ("samples: {}\n", "templates"),
])
def test_a_bad_templates_file_is_named_with_its_key(tmp_path, content, named):
    path = tmp_path / "templates.yaml"
    path.write_text(content)
    with pytest.raises(TemplateError, match=re.escape(named)):
        load_catalogue(path)


def test_an_unquoted_dlt_template_id_is_read_as_its_digits(tmp_path):
    path = tmp_path / "templates.yaml"
    path.write_text("templates: {otp: {en: {text: x, dlt_template_id: 1107161234567890123}}}")
    assert load_catalogue(path).entry("otp", "en").dlt_template_id == "1107161234567890123"


# ---- the check ---------------------------------------------------------------------------

def _catalogue(text: str, pattern: str, template_id: str = "", **samples) -> Catalogue:
    entry = Entry("booked", "en", text, pattern, template_id)
    return Catalogue({"booked": {"en": entry}}, {"ref": "K7QP3M", **samples})


CHECKS = [  # text, registered pattern, id, samples, errors, warnings (substrings)
    ("Ref {ref}.", "Ref {#var#}.", "1107161234567890123", {}, [], []),
    ("Ref {ref}.", "Ref {#var#}.", "", {}, [], ["no dlt_template_id"]),
    ("Ref {ref}.", "Ref {#var#}.", "1107", {}, [], ["has 4 digits"]),
    ("Ref {ref}!", "Ref {#var#}.", "", {}, ["'!' is registered as '.'"], []),
    ("Ref {ref} at {at}.", "Ref {#var#} at.", "", {"at": "x"}, ["1 variable place"], []),
    ("Ref {ref} {x}.", "Ref {#var#} {#var#}.", "", {}, ["no sample value for ['x']"], []),
    ("Ref {ref}.", "", "", {}, [], ["no registered DLT pattern"]),
    ("At {ref}.", "At {#var#}.", "", {"ref": "y" * 31}, [], ["31 characters"]),
]


@pytest.mark.parametrize(("text", "pattern", "template_id", "samples", "errors", "warnings"),
                         CHECKS)
def test_the_check_reports_each_problem_of_a_template(settings, text, pattern, template_id,
                                                      samples, errors, warnings):
    [checked] = check_catalogue(_catalogue(text, pattern, template_id, **samples),
                                settings.sms)
    assert len(checked.errors) == len(errors), checked.errors
    for error, found in zip(errors, checked.errors, strict=True):
        assert error in found
    for warning in warnings:
        assert any(warning in w for w in checked.warnings), checked.warnings


def test_the_check_reports_length_and_segments(settings):
    [checked] = check_catalogue(_catalogue("Ref {ref}.", "Ref {#var#}."), settings.sms)
    assert (checked.text, checked.length, checked.segments, checked.encoding) == \
        ("Ref K7QP3M.", 11, 1, "gsm7")


def test_a_missing_dlt_id_is_an_error_once_dlt_applies(settings):
    sms = dlt_settings(settings, [{"name": "sandbox", "kind": "sandbox"}]).sms
    [checked] = check_catalogue(_catalogue("Ref {ref}.", "Ref {#var#}."), sms)
    assert any("no dlt_template_id" in e for e in checked.errors)


# ---- the deployment's DLT identity ---------------------------------------------------------

@pytest.mark.parametrize(("dlt_config", "key"), [
    ({"header": "VAXGATE"}, "sms.dlt.header"),  # 7 characters
    ({"header": "VAX123"}, "sms.dlt.header"),  # digits: a promotional header
    ({"entity_id": "PE-12"}, "sms.dlt.entity_id"),
    ({"required_prefixes": ["91"]}, "sms.dlt.required_prefixes"),
])
def test_a_bad_dlt_setting_is_named(dlt_config, key):
    with pytest.raises(ConfigError, match=re.escape(key)):
        load_settings(overrides={"sms": {"dlt": dlt_config}})


def test_dlt_settings_accept_a_lower_case_header_and_an_unquoted_entity_id():
    loaded = load_settings(overrides={"sms": {"dlt": {"header": "vaxgte",
                                                      "entity_id": 1101456789012345678}}})
    assert (loaded.sms.dlt.header, loaded.sms.dlt.entity_id) == (HEADER, ENTITY_ID)


def test_the_default_config_is_a_sandbox_without_dlt_data():
    sms = load_settings().sms
    assert (sms.dlt.entity_id, sms.dlt.header, sms.dlt.required_prefixes) == ("", "", ["+91"])
    assert not dlt.is_enforced(sms)


def test_a_gupshup_provider_needs_the_entity_id_and_header():
    with pytest.raises(ConfigError, match=r"dlt\.entity_id: empty, but provider gupshup"):
        load_settings(overrides={"sms": {"providers": [gupshup_config("http://x")]}})


def test_the_documented_india_config_is_valid_and_routes_91_to_gupshup_first():
    block = DOCS.read_text(encoding="utf-8").split("## India")[1].split("```yaml")[1]
    loaded = load_settings(overrides=yaml.safe_load(block.split("```")[0]))
    router = Router([p.name for p in loaded.sms.providers], loaded.sms.routes)
    assert router.order("+919812345678") == ["gupshup", "twilio"]
    assert router.order("+254712345678")[0] == "twilio"


def test_a_route_leaves_out_the_providers_it_avoids():
    route = SmsRouteSettings(prefix="+91", prefer=["gupshup"], avoid=["africastalking"])
    router = Router(["twilio", "africastalking", "gupshup"], [route])
    assert router.order("+919812345678") == ["gupshup", "twilio"]
    assert router.order("+254712345678") == ["twilio", "africastalking", "gupshup"]


# ---- the refusal --------------------------------------------------------------------------

def test_a_message_to_91_without_a_registered_template_is_refused_before_any_provider(
        gupshup_ctx, fake_gupshup, db, ids):
    refused = _send(gupshup_ctx, db, templates.render("started", "hi"))
    assert refused.status == "failed"
    assert refused.status_reason.startswith("DLT: template started (hi) has no dlt_template_id")
    assert fake_gupshup.gupshup.received == []  # never handed to a provider


def test_a_hand_typed_text_to_91_is_refused_as_unregistered(gupshup_ctx, fake_gupshup, db):
    refused = _send(gupshup_ctx, db, "Booked")
    assert (refused.status, refused.template) == ("failed", None)
    assert "not from a registered template" in refused.status_reason
    assert fake_gupshup.gupshup.received == []


def test_a_registered_template_goes_out_with_the_deployments_dlt_ids(gupshup_ctx,
                                                                     fake_gupshup, db, ids):
    fake_gupshup.patterns = {CONFIRMED_EN_ID: ids.entry("booking_confirmed", "en").dlt}
    sent = _send(gupshup_ctx, db, _confirmed())
    assert (sent.status, sent.dlt_template_id) == ("sent", CONFIRMED_EN_ID)
    [form] = fake_gupshup.gupshup.delivered()  # the operator matched it: not dropped
    assert (form["principalEntityId"], form["dltTemplateId"], form["mask"]) == \
        (ENTITY_ID, CONFIRMED_EN_ID, HEADER)


def test_a_number_outside_the_dlt_prefixes_is_not_refused(gupshup_ctx, fake_gupshup, db):
    sent = _send(gupshup_ctx, db, "Booked", phone="+254712345678")
    assert sent.status == "sent"
    [form] = fake_gupshup.gupshup.delivered()
    assert "dltTemplateId" not in form and form["send_to"] == "254712345678"


def test_the_sandbox_sends_without_dlt_data(settings, redis_client, db):
    data = settings.model_dump()
    data["sms"]["dlt"] = {"required_prefixes": ["+91"]}  # the shipped default
    context = build_context(type(settings).model_validate(data), redis_client)
    try:
        assert _send(context, db, templates.render("started", "en")).status == "sent"
    finally:
        jobs.install(None)
    with db.read() as session:
        inbox = session.scalars(select(SandboxMessage.body).where(SandboxMessage.phone == PHONE))
        assert list(inbox) == [str(templates.render("started", "en"))]


def test_an_entity_id_turns_the_rules_on_in_the_sandbox_too(settings, redis_client, db):
    sms = dlt_settings(settings, [{"name": "sandbox", "kind": "sandbox"}])
    context = build_context(sms, redis_client)
    try:
        refused = _send(context, db, templates.render("started", "en"))
    finally:
        jobs.install(None)
    assert refused.status == "failed" and "started (en)" in refused.status_reason


def test_twilio_for_india_is_not_refused_when_its_template_is_registered(settings, fake, db,
                                                                         redis_client, ids,
                                                                         provider_env):
    """Twilio matches the body against the templates registered with it: no DLT field."""
    context = build_context(dlt_settings(settings, provider_config(fake.url)[:1]),
                            redis_client)
    try:
        sent = _send(context, db, _confirmed())
    finally:
        jobs.install(None)
    assert sent.status == "sent"
    form = fake.twilio.received[0]["form"]
    assert form["Body"] == str(_confirmed()) and not {"dltTemplateId", "mask"} & set(form)
