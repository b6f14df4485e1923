"""Provider webhooks are authenticated in every real deployment: a config with a real provider
but without what checks its webhooks refuses to start, naming the setting; unsigned or
mis-signed requests get 403 on every webhook route; the sandbox needs no secret at all."""
from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from gateway import create_app
from gateway.cli.commands import main as cli
from gateway.config import ConfigError, load_settings
from gateway.sms import otp_codes

from .support import with_changes

SECRET_VARS = ["TWILIO_AUTH_TOKEN", "AT_WEBHOOK_SECRET", "AT_VOICE_SECRET",
               "VAXGATE_USSD_SECRET", "TWILIO_ACCOUNT_SID", "AT_USERNAME", "AT_API_KEY"]
TOKEN, AT_SECRET, USSD_SECRET = "tw-token-123", "at-secret-456", "ussd-secret-789"
TWILIO_SMS = {"name": "twilio", "kind": "twilio", "sender": "+15005550006",
              "credentials_env": {"account_sid": "TWILIO_ACCOUNT_SID",
                                  "auth_token": "TWILIO_AUTH_TOKEN"}}
AT_SMS = {"name": "at", "kind": "africastalking", "sender": "VAXGATE",
          "webhook_secret_env": "AT_WEBHOOK_SECRET",
          "credentials_env": {"username": "AT_USERNAME", "api_key": "AT_API_KEY"}}


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch):
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(f"{var}_FILE", raising=False)


def _env(monkeypatch, **values):
    for var, value in values.items():
        monkeypatch.setenv(var, value)


def test_the_sandbox_config_starts_and_answers_with_no_secret_at_all(settings, db, redis_client):
    client = create_app(settings).test_client()
    assert client.post("/ivr/twilio", data={"CallSid": "CA1", "From": "+919876543210"}
                       ).status_code == 200
    assert client.post("/ussd/africastalking", data={
        "sessionId": "s1", "serviceCode": "*384*1234#", "phoneNumber": "+919876543210",
        "text": ""}).status_code == 200


REFUSED = [
    ({"sms": {"providers": [TWILIO_SMS]}}, {},
     "sms.providers[twilio].credentials_env.auth_token names $TWILIO_AUTH_TOKEN, which is not set"),
    ({"sms": {"providers": [{**AT_SMS, "webhook_secret_env": ""}]}}, {},
     "sms.providers[at].webhook_secret_env is empty"),
    ({"sms": {"providers": [AT_SMS]}}, {"AT_API_KEY": "k"},
     "sms.providers[at].webhook_secret_env names $AT_WEBHOOK_SECRET, which is not set"),
    ({"ivr": {"providers": ["twilio"]}}, {},
     "ivr.twilio_auth_token_env (ivr.providers has twilio) names $TWILIO_AUTH_TOKEN"),
    ({"ivr": {"providers": ["africastalking"], "africastalking_secret_env": ""}}, {},
     "ivr.africastalking_secret_env (ivr.providers has africastalking) is empty"),
    ({"ussd": {"secret_env": "VAXGATE_USSD_SECRET"}}, {},
     "ussd.secret_env names $VAXGATE_USSD_SECRET, which is not set"),
    ({"sms": {"providers": [TWILIO_SMS], "public_base_url": ""}},
     {"TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32},
     "sms.public_base_url is empty: sms.providers[twilio] get their delivery-report"),
]


@pytest.mark.parametrize("changes, env, message", REFUSED)
def test_a_real_provider_without_webhook_validation_refuses_to_start(
        settings, db, redis_client, monkeypatch, changes, env, message):
    _env(monkeypatch, **env)
    with pytest.raises(ConfigError) as refused:
        create_app(with_changes(settings, changes))
    assert message in str(refused.value)
    assert "refusing to start" in str(refused.value)


def test_a_provider_whose_reports_need_no_url_per_send_starts_without_public_base_url(
        settings, db, redis_client, monkeypatch):
    """Africa's Talking posts reports to the URL set in its dashboard, not one per send."""
    _env(monkeypatch, AT_WEBHOOK_SECRET=AT_SECRET, AT_USERNAME="u", AT_API_KEY="k")
    create_app(with_changes(settings, {"sms": {"providers": [AT_SMS], "public_base_url": ""}}))


def test_vaxgate_run_refuses_before_starting_anything(tmp_path, database_url):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database_url": database_url,
                                      "sms": {"providers": [AT_SMS]}}))
    result = CliRunner().invoke(cli, ["--config", str(config), "run"])
    assert result.exit_code != 0
    assert "sms.providers[at].webhook_secret_env names $AT_WEBHOOK_SECRET" in result.output


@pytest.fixture
def real_client(settings, db, redis_client, monkeypatch):
    """Both SMS providers, both voice providers and a USSD secret, all configured."""
    _env(monkeypatch, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID="AC" + "1" * 32,
         AT_WEBHOOK_SECRET=AT_SECRET, AT_VOICE_SECRET=AT_SECRET, AT_USERNAME="vaxgate",
         AT_API_KEY="key", VAXGATE_USSD_SECRET=USSD_SECRET)
    changed = with_changes(settings, {"sms": {"providers": [TWILIO_SMS, AT_SMS]},
                                      "ivr": {"providers": ["twilio", "africastalking"]},
                                      "ussd": {"secret_env": "VAXGATE_USSD_SECRET"}})
    return create_app(changed).test_client()


CALL = {"CallSid": "CA" + "a" * 32, "From": "+919876543210"}
AT_CALL = {"sessionId": "ATVId_1", "callerNumber": "+919876543210", "isActive": "1"}
USSD = {"sessionId": "s1", "serviceCode": "*384*1234#", "phoneNumber": "+919876543210",
        "text": ""}
TWILIO_ROUTES = [("/sms/twilio/status", {"MessageSid": "SM1", "MessageStatus": "delivered"}),
                 ("/sms/twilio/inbound", {"From": "+919876543210", "Body": "STATUS",
                                          "MessageSid": "SM2"}),
                 ("/ivr/twilio", CALL), ("/ivr/twilio/gather", {**CALL, "Digits": "1"}),
                 ("/ivr/twilio/record", {**CALL, "RecordingUrl": "https://x.test/r"})]
SECRET_ROUTES = [("/sms/africastalking/delivery", {"id": "ATXid_1", "status": "Success"},
                  AT_SECRET),
                 ("/sms/africastalking/inbound", {"from": "+919876543210", "text": "STATUS",
                                                  "id": "ATXid_2"}, AT_SECRET),
                 ("/ivr/africastalking", AT_CALL, AT_SECRET),
                 ("/ivr/africastalking/gather", {**AT_CALL, "dtmfDigits": "1"}, AT_SECRET),
                 ("/ivr/africastalking/record", {**AT_CALL, "recordingUrl": "https://x.test/r"},
                  AT_SECRET),
                 ("/ussd/africastalking", USSD, USSD_SECRET)]


@pytest.mark.parametrize("path, form", TWILIO_ROUTES)
@pytest.mark.parametrize("signer, allowed", [(TOKEN, True), ("forged-token", False),
                                             (None, False)])
def test_twilio_routes_need_a_valid_signature(real_client, path, form, signer, allowed):
    headers = {}
    if signer:
        url = f"http://localhost{path}"
        headers["X-Twilio-Signature"] = RequestValidator(signer).compute_signature(url, form)
    status = real_client.post(path, data=form, headers=headers).status_code
    assert (status != 403) is allowed, status
    assert status < 500


@pytest.mark.parametrize("path, form, secret", SECRET_ROUTES)
@pytest.mark.parametrize("query, allowed", [("?secret={}", True), ("?secret=wrong", False),
                                            ("", False)])
def test_secret_routes_need_the_shared_secret(real_client, path, form, secret, query, allowed):
    status = real_client.post(path + query.format(secret), data=form).status_code
    assert (status != 403) is allowed, status
    assert status < 500


@pytest.mark.parametrize("path, form", [("/sms/twilio/inbound", TWILIO_ROUTES[1][1]),
                                        ("/ivr/twilio", CALL), ("/ivr/africastalking", AT_CALL)])
def test_unsigned_callbacks_are_refused_once_any_real_provider_is_configured(
        settings, db, redis_client, monkeypatch, path, form):
    """Africa's Talking SMS only: nobody may post unsigned Twilio inbound SMS or calls."""
    _env(monkeypatch, AT_WEBHOOK_SECRET=AT_SECRET, AT_USERNAME="u", AT_API_KEY="k")
    client = create_app(with_changes(settings, {"sms": {"providers": [AT_SMS]}})).test_client()
    assert client.post(path, data=form).status_code == 403


@pytest.mark.parametrize("remote, status", [("196.201.214.7", 200), ("203.0.113.9", 403)])
def test_ussd_can_be_limited_to_the_aggregators_networks(settings, db, redis_client,
                                                          remote, status):
    changed = with_changes(settings, {"ussd": {"allowed_networks": ["196.201.214.0/24"]}})
    client = create_app(changed).test_client()
    reply = client.post("/ussd/africastalking", data=USSD,
                        environ_base={"REMOTE_ADDR": remote})
    assert reply.status_code == status
    assert reply.get_data(as_text=True).startswith("CON " if status == 200 else "END ")


def test_a_real_deployment_without_a_secret_key_refuses_to_start(
        database_url, redis_url, monkeypatch):
    """Each process would draw its own key: a worker could not unseal the web's OTPs."""
    _env(monkeypatch, AT_API_KEY="k", AT_WEBHOOK_SECRET="s")
    unset = load_settings(overrides={"database_url": database_url, "redis_url": redis_url,
                                     "sms": {"providers": [AT_SMS]}})
    with pytest.raises(ConfigError, match="VAXGATE_SECRET_KEY"):
        create_app(unset)


def test_an_otp_sealed_with_another_secret_key_is_not_sent_as_a_wrong_code(
        redis_client, caplog):
    otp_codes.seal(redis_client, "web-key", 7, "123456", 60)
    assert otp_codes.unseal(redis_client, "worker-key", 7) is None
    assert "VAXGATE_SECRET_KEY" in caplog.text
    assert otp_codes.unseal(redis_client, "web-key", 7) == "123456"


def test_the_simulator_is_off_outside_the_sandbox(real_client):
    """Its inbox shows OTPs in the clear: a real deployment never serves it."""
    assert real_client.get("/simulator/").status_code == 404
    assert real_client.get("/simulator/inbox?phone=9876543210").status_code == 404
