"""Webhook authenticity and garbage: signed by the twilio SDK's own RequestValidator, AT's
shared secret, and malformed callbacks that must never get a 500."""
from __future__ import annotations

import pytest

from tests.ivr.conftest import VoicePhone

TOKEN = "twilio-auth-token-for-tests"


@pytest.mark.parametrize("token_set, signer, status", [
    (True, TOKEN, 200),              # signed with the right token
    (True, "some-other-token", 403),  # wrong signature
    (True, None, 403),               # no signature at all
    (False, None, 200),              # validation not configured
])
def test_twilio_signatures_are_checked_when_a_token_is_configured(
        monkeypatch, ivr_client, token_set, signer, status, caplog):
    if token_set:
        monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    phone = VoicePhone(ivr_client, "twilio", token=signer)
    turn = phone.call()
    assert turn.status == status
    if status == 403:
        assert "refused" in caplog.text and TOKEN not in caplog.text


def test_twilio_signature_covers_the_action_urls_too(monkeypatch, ivr_client):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    phone = VoicePhone(ivr_client, "twilio", token=TOKEN)
    phone.call()
    assert phone.press("1").status == 200
    phone.token = "forged"
    assert phone.press("1").status == 403


@pytest.mark.parametrize("query, status", [("", 403), ("?secret=wrong", 403),
                                           ("?secret=s3cret", 200)])
def test_africastalking_needs_the_shared_secret_when_one_is_set(monkeypatch, ivr_client,
                                                                  query, status):
    monkeypatch.setenv("AT_VOICE_SECRET", "s3cret")
    phone = VoicePhone(ivr_client, "africastalking")
    phone.call_id = "ATVId_secret"
    turn = phone.post(f"http://localhost/ivr/africastalking{query}", {})
    assert turn.status == status
    if status == 200:
        assert turn.action.endswith("/ivr/africastalking/gather?secret=s3cret")


GARBAGE = [
    ("twilio", "", {"From": "+919876543210"}, 400, "CallSid"),
    ("twilio", "", {"CallSid": "CA1", "From": "anonymous"}, 400, "From"),
    ("twilio", "/gather", {"CallSid": "CA" + "f" * 32, "From": "+919876543210",
                           "Digits": "5"}, 200, ""),  # unknown call: starts afresh
    ("twilio", "", {"CallSid": "CA<script>", "From": "+919876543210"}, 400, "CallSid"),
    ("africastalking", "", {"callerNumber": "+919876543210"}, 400, "sessionId"),
    ("africastalking", "/record", {"sessionId": "x", "callerNumber": "+919876543210",
                                   "recordingUrl": "javascript:alert(1)"}, 400, "recordingUrl"),
    ("africastalking", "", {"sessionId": "x", "callerNumber": "+919876543210",
                            "isActive": "0"}, 200, ""),  # call ended, unknown session
]


@pytest.mark.parametrize("provider, step, form, status, field", GARBAGE)
def test_garbage_callbacks_get_a_spoken_400_or_a_fresh_start_never_a_500(
        ivr_client, provider, step, form, status, field):
    response = ivr_client.post(f"/ivr/{provider}{step}", data=form)
    assert response.status_code == status
    assert response.mimetype == "application/xml"
    if field:
        assert f"field '{field}'" in response.get_data(as_text=True)


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("keys", ["9", "0", "12", "1" * 1024, "abc", "#", "*#*", "٣"])
def test_out_of_range_or_huge_key_input_reprompts(caller, keys):
    caller.call()
    turn = caller.press(keys)
    assert turn.status == 200 and turn.expect in ("key", "digits")


def test_an_unknown_provider_or_step_is_404(ivr_client):
    assert ivr_client.post("/ivr/nexmo", data={}).status_code == 404
    assert ivr_client.post("/ivr/twilio/hangup", data={}).status_code == 404


def test_ivr_switched_off_in_config_answers_404(database_url, redis_url, db, redis_client):
    from gateway import create_app
    from gateway.config import load_settings

    app = create_app(load_settings(overrides={
        "database_url": database_url, "redis_url": redis_url, "testing": True,
        "demo_data": False, "ivr": {"enabled": False}}))
    form = {"CallSid": "CA1", "From": "+919876543210"}
    assert app.test_client().post("/ivr/twilio", data=form).status_code == 404
