"""Provider webhooks are authenticated in every real deployment (docs/security.md).

A deployment is a *sandbox* while no real provider is configured: only the ``sandbox`` SMS
provider and no voice provider in ``ivr.providers``. There the phone simulator may call the
webhooks unsigned. Once a real provider is configured, :func:`require_webhook_security`
(called by ``create_app`` and ``vaxgate run``) refuses to start unless everything needed to
check that provider's webhooks is set (and ``sms.public_base_url`` for a provider told its
status-callback URL with each send), and the routes refuse unsigned requests (403).

USSD callbacks are not signed by Africa's Talking; :func:`ussd_source_refusal` applies the
optional ``ussd.allowed_networks`` and ``ussd.secret_env``.
"""
from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping

from gateway.config import ConfigError, Settings
from gateway.sms.providers import KINDS
from gateway.sms.secrets import read_secret

# The largest request body a webhook or form takes (Flask's MAX_CONTENT_LENGTH, and the USSD
# webhook's own cap); CSV uploads have theirs (gateway/admin/csvio.MAX_UPLOAD_BYTES).
MAX_REQUEST_BYTES = 64 * 1024
REAL_SMS_KINDS = frozenset({"twilio", "africastalking", "gupshup"})
IVR_SECRETS = {"twilio": ("twilio_auth_token_env", "Twilio signs voice callbacks with it"),
               "africastalking": ("africastalking_secret_env",
                                  "voice callbacks must carry it as ?secret=")}


def is_sandbox(settings: Settings) -> bool:
    """True while no real SMS or voice provider is configured (unsigned webhooks allowed)."""
    real_sms = any(p.enabled and p.kind in REAL_SMS_KINDS for p in settings.sms.providers)
    return not real_sms and not (settings.ivr.enabled and settings.ivr.providers)


def missing_settings(settings: Settings, env: Mapping[str, str] | None = None) -> list[str]:
    """One line per setting a configured provider needs to authenticate its webhooks."""
    problems = []
    for p in settings.sms.providers:
        if not p.enabled or p.kind not in REAL_SMS_KINDS:
            continue
        if p.kind == "twilio":
            problems += _missing(f"sms.providers[{p.name}].credentials_env.auth_token",
                                 p.credentials_env.get("auth_token", ""), env,
                                 "X-Twilio-Signature of status and inbound webhooks is "
                                 "checked with it")
        else:
            problems += _missing(f"sms.providers[{p.name}].webhook_secret_env",
                                 p.webhook_secret_env, env,
                                 "delivery and inbound webhooks must carry this secret")
    problems += _missing_callback_url(settings)
    if not is_sandbox(settings) and "secret_key" not in settings.model_fields_set:
        problems.append("VAXGATE_SECRET_KEY (secret_key) is not set: each process would draw "
                        "its own, so a worker could not unseal the web's OTP codes and console "
                        "sign-ins would hold on one process only")
    if settings.ivr.enabled:
        for provider in settings.ivr.providers:
            key, why = IVR_SECRETS[provider]
            problems += _missing(f"ivr.{key} (ivr.providers has {provider})",
                                 getattr(settings.ivr, key), env, why)
    if settings.ussd.secret_env:
        problems += _missing("ussd.secret_env", settings.ussd.secret_env, env,
                             "USSD callbacks must carry it as ?secret=")
    elif not is_sandbox(settings) and not settings.ussd.allowed_networks:
        problems.append("ussd.allowed_networks and ussd.secret_env are both empty: Africa's "
                        "Talking does not sign USSD callbacks, so name its source networks, "
                        "a secret for the callback URL (?secret=), or both")
    return problems


def require_webhook_security(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError naming every missing setting (see :func:`missing_settings`)."""
    problems = missing_settings(settings, env)
    if problems:
        raise ConfigError("provider webhooks could not be authenticated; refusing to start:"
                          "\n  " + "\n  ".join(problems))


def _missing_callback_url(settings: Settings) -> list[str]:
    """A provider told our status-callback URL with each send needs ``sms.public_base_url``:
    without it no delivery report comes, and no message can be re-sent for lack of one."""
    needing = [p.name for p in settings.sms.providers
               if p.enabled and getattr(KINDS.get(p.kind), "needs_callback_url", False)]
    if not needing or settings.sms.public_base_url.strip():
        return []
    return [f"sms.public_base_url is empty: sms.providers[{', '.join(needing)}] get their "
            "delivery-report (status callback) URL from it, e.g. https://sms.example.org"]


def _missing(key: str, var: str, env: Mapping[str, str] | None, why: str) -> list[str]:
    if not var:
        return [f"{key} is empty: {why}"]
    try:
        value = read_secret(var, env)
    except OSError as exc:
        return [f"{key}: ${var}_FILE cannot be read ({exc.strerror}): {why}"]
    if not value:
        return [f"{key} names ${var}, which is not set (nor ${var}_FILE): {why}"]
    return []


def ussd_source_refusal(settings: Settings, remote_addr: str | None,
                        given_secret: str) -> str | None:
    """Why a USSD callback is refused (source network or secret), or None to accept it."""
    networks = settings.ussd.allowed_networks
    if networks and not _in_networks(remote_addr, networks):
        return "source address not in ussd.allowed_networks"
    if settings.ussd.secret_env:
        expected = read_secret(settings.ussd.secret_env)
        if not expected or not hmac.compare_digest(given_secret.encode(), expected.encode()):
            return "missing or wrong ?secret="
    return None


def _in_networks(address: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def signed_form_fields(form) -> dict[str, str]:
    """The named fields of a posted form, as Twilio signs them. A multipart part without a
    name parses to a ``None`` key, which Twilio's ``RequestValidator`` cannot sort (a 500
    found by fuzzing); no provider sends one, so it is left out."""
    return {key: value for key, value in form.items() if isinstance(key, str)}
