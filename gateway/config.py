"""Load and validate the deployment settings (config.yaml + environment overrides).

Errors name the offending key, e.g. ``config.yaml: ussd.session_ttl_seconds: Input should
be a valid integer``. Secrets never live in the YAML file: they come from the environment.
"""
from __future__ import annotations

import datetime as dt
import math
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    ValidationError,
    field_validator,
    model_validator,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_DIR / "config.yaml"


class ConfigError(Exception):
    """The configuration is invalid; the message names every bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UssdSettings(_Section):
    service_codes: list[str] = Field(default_factory=lambda: ["*384*1234#"])
    session_ttl_seconds: int = Field(180, ge=30, le=3600)
    resume_window_seconds: int = Field(300, ge=0, le=3600)
    max_text_length: int = Field(1000, ge=50, le=10000)
    helpline: str = "1075"
    # Web requests give up on a slow database after this long and answer "please try
    # again", keeping the answers so far (aggregators wait ~10-15 s in all).
    step_budget_seconds: float = Field(2.0, ge=0.5, le=10)
    # Africa's Talking does not sign USSD callbacks: optionally accept them only from these
    # networks (CIDRs, e.g. the aggregator's) and/or only with ?secret= from this variable.
    allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    secret_env: str = ""


RATE = re.compile(r"(\d+)\s*/\s*(second|minute|hour)")
RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600}


class AdmissionSettings(_Section):
    """Overload handling: a ceiling on concurrent USSD/IVR sessions and a virtual queue."""

    max_active_sessions: int = Field(2000, ge=0)  # 0 = no ceiling
    pass_window_seconds: int = Field(600, ge=60, le=3600)  # time to dial back after the SMS
    release_interval_seconds: int = Field(5, ge=1, le=300)
    # independent parts of the ceiling and queue, spread over a Redis Cluster (fewer when
    # a part would hold under 100 places; see gateway/sessions/admission.py)
    shards: int = Field(8, ge=1, le=256)
    rate_limit_per_phone: str = "30/minute"  # N/second|minute|hour, per calling number
    # a health worker's phone once she has signed in with her PIN (she registers many people)
    rate_limit_health_worker: str = "120/minute"

    @field_validator("rate_limit_per_phone", "rate_limit_health_worker")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not RATE.fullmatch(value.strip()):
            raise ValueError("write it as N/second, N/minute or N/hour, e.g. 30/minute")
        return value.strip()

    def rate_limit(self) -> tuple[int, int]:
        """(requests, window in seconds) from ``rate_limit_per_phone``."""
        count, unit = RATE.fullmatch(self.rate_limit_per_phone).groups()  # type: ignore[union-attr]
        return int(count), RATE_UNITS[unit]

    def health_worker_rate_limit(self) -> tuple[int, int]:
        """(requests, window in seconds) from ``rate_limit_health_worker``."""
        count, unit = RATE.fullmatch(self.rate_limit_health_worker).groups()  # type: ignore[union-attr]
        return int(count), RATE_UNITS[unit]


class RegistrationSettings(_Section):
    min_age: int = Field(18, ge=0, le=120)
    max_beneficiaries_per_phone: int = Field(4, ge=1, le=20)


class BookingSettings(_Section):
    days_ahead: int = Field(7, ge=1, le=60)
    # centers listed after the home PIN code's and district's: those within this many km;
    # with none that near, the nearest ``far_centers`` anywhere, with their distance
    near_km: float = Field(50.0, gt=0, le=500)
    far_centers: int = Field(5, ge=1, le=20)


class SmsProviderSettings(_Section):
    """One SMS provider account. Credentials name environment variables, never values:
    ``credentials_env: {auth_token: TWILIO_AUTH_TOKEN}`` reads $TWILIO_AUTH_TOKEN, or the file
    named by $TWILIO_AUTH_TOKEN_FILE."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    enabled: bool = True
    base_url: str = ""
    sender: str = ""
    # caps this provider's connect and read timeouts (else the queue's, ``sms.queues``)
    timeout_seconds: float | None = Field(None, gt=0, le=60)
    rate_per_second: float | None = Field(None, gt=0)
    credentials_env: dict[str, str] = Field(default_factory=dict)
    webhook_secret_env: str = ""

    def timeouts(self, queue: SmsQueueSettings) -> tuple[float, float]:
        """(connect, read) seconds for one try of this provider for ``queue``'s messages."""
        cap = self.timeout_seconds or float("inf")
        return min(queue.connect_timeout_seconds, cap), min(queue.read_timeout_seconds, cap)


class SmsQueueSettings(_Section):
    """How one queue's messages are sent: how many one job claims, and each try's timeouts."""

    batch_size: int = Field(16, ge=1, le=500)
    connect_timeout_seconds: float = Field(5.0, gt=0, le=60)
    read_timeout_seconds: float = Field(10.0, gt=0, le=120)


SMS_TRY_SPARE_S = 3  # a rate-limit wait and the settling of a batch, beside a try's timeouts
# OTPs wait for a hung provider far less than bulk reminders do (docs/providers.md)
SMS_QUEUE_DEFAULTS = {
    "otp": {"batch_size": 16, "connect_timeout_seconds": 2, "read_timeout_seconds": 3},
    "notify": {"batch_size": 16, "connect_timeout_seconds": 5, "read_timeout_seconds": 10},
    "bulk": {"batch_size": 32, "connect_timeout_seconds": 5, "read_timeout_seconds": 10},
}


class SmsRouteSettings(_Section):
    """Prefer some providers for numbers starting with ``prefix`` (longest prefix wins)."""

    prefix: str = Field(pattern=r"^\+\d{1,15}$")
    prefer: list[str] = Field(min_length=1)
    avoid: list[str] = Field(default_factory=list)  # never used for these numbers


class DltSettings(_Section):
    """India's SMS rules (TRAI DLT): the deployment's registered identity (docs/providers.md).

    Every SMS to a number under ``required_prefixes`` must name a registered content template;
    ``vaxgate sms templates check`` checks the texts against their registered patterns."""

    entity_id: str = Field("", pattern=r"^(\d{1,30})?$")  # principal entity id (PE ID)
    header: str = ""  # the registered 6-letter header (sender id), e.g. VAXGTE
    required_prefixes: list[str] = Field(default_factory=lambda: ["+91"])

    @field_validator("entity_id", mode="before")
    @classmethod
    def _digits_unquoted(cls, value: Any) -> Any:
        """An unquoted id in YAML is a number: take its digits."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("header")
    @classmethod
    def _six_letters(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z]{6}", value):
            raise ValueError("a transactional/service header is exactly 6 letters (TRAI), "
                             f"got {value[:20]!r}")
        return value.upper()

    @field_validator("required_prefixes")
    @classmethod
    def _prefixes(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if not re.fullmatch(r"\+\d{1,15}", p)]
        if bad:
            raise ValueError(f"write each prefix as + and digits, e.g. +91; got {bad}")
        return value


class SmsBudgetSettings(_Section):
    """What SMS may cost: per number (every kind but OTPs, which keep their own caps in
    ``otp``), and a deployment-wide daily figure that raises an alarm (gateway/sms/budget.py).
    0 turns a limit off."""

    per_number_per_hour: int = Field(10, ge=0, le=10000)
    per_number_per_day: int = Field(25, ge=0, le=100000)
    # every kind, OTPs too; past it the dashboard and /metrics raise an alarm, nothing stops
    deployment_per_day: int = Field(0, ge=0)


class SmsSettings(_Section):
    providers: list[SmsProviderSettings] = Field(
        default_factory=lambda: [SmsProviderSettings(name="sandbox", kind="sandbox")],
        min_length=1)
    routes: list[SmsRouteSettings] = Field(default_factory=list)
    retry_intervals_seconds: list[int] = Field(default_factory=lambda: [5, 30, 120])
    otp_retry_seconds: float = Field(2.0, ge=0.5, le=60)  # the otp queue: until expiry
    send_threads: int = Field(16, ge=1, le=256)  # concurrent sends per worker process
    queues: dict[str, SmsQueueSettings] = Field(
        default_factory=lambda: {q: SmsQueueSettings(**v) for q, v in SMS_QUEUE_DEFAULTS.items()})
    delivery_report_timeout_seconds: int = Field(90, ge=10, le=86400)
    sweep_interval_seconds: int = Field(15, ge=1, le=3600)
    stale_after_seconds: int = Field(120, ge=10, le=86400)
    give_up_after_hours: int = Field(24, ge=1, le=720)
    breaker_fail_max: int = Field(5, ge=1, le=1000)
    breaker_reset_seconds: int = Field(3, ge=1, le=3600)
    public_base_url: str = ""
    webhook_secret_header: str = "X-Vaxgate-Webhook-Secret"
    dlt: DltSettings = Field(default_factory=DltSettings)
    budget: SmsBudgetSettings = Field(default_factory=SmsBudgetSettings)

    @field_validator("queues", mode="before")
    @classmethod
    def _every_queue(cls, value: Any) -> Any:
        """otp, notify and bulk, each from its defaults with the keys given here."""
        if not isinstance(value, Mapping):
            return value
        unknown = sorted(set(value) - set(SMS_QUEUE_DEFAULTS))
        if unknown:
            raise ValueError(f"unknown queue(s) {unknown}: the queues are "
                             f"{', '.join(SMS_QUEUE_DEFAULTS)}")
        given = {q: v.model_dump() if isinstance(v, BaseModel) else v for q, v in value.items()}
        return {q: {**base, **(given.get(q) or {})} for q, base in SMS_QUEUE_DEFAULTS.items()}

    @model_validator(mode="after")
    def _routes_name_providers(self) -> SmsSettings:
        names = [p.name for p in self.providers]
        if len(set(names)) != len(names):
            raise ValueError(f"providers: names must be unique, got {names}")
        for route in self.routes:
            unknown = sorted(set(route.prefer + route.avoid) - set(names))
            if unknown:
                raise ValueError(f"routes[{route.prefix}]: unknown providers {unknown}")
        return self

    @model_validator(mode="after")
    def _a_try_fits_in_a_claim(self) -> SmsSettings:
        """A worker starts no try that could outlast ``stale_after_seconds`` from its claim
        (gateway/sms/dispatch.py): each provider's longest try must fit, with room to spare."""
        for provider in self.providers:
            for queue, limits in self.queues.items():
                need = math.ceil(sum(provider.timeouts(limits))) + SMS_TRY_SPARE_S
                if self.stale_after_seconds < need:
                    raise ValueError(
                        f"stale_after_seconds: {self.stale_after_seconds} leaves no time for one "
                        f"try of {provider.name} on the {queue} queue; make it at least {need}")
        return self

    @model_validator(mode="after")
    def _dlt_identity_for_gupshup(self) -> SmsSettings:
        """Gupshup sends the entity id and header with every message under the DLT rules."""
        gupshup = [p.name for p in self.providers if p.enabled and p.kind == "gupshup"]
        if gupshup and self.dlt.required_prefixes:
            for key in ("entity_id", "header"):
                if not getattr(self.dlt, key):
                    raise ValueError(f"dlt.{key}: empty, but provider {gupshup[0]} must send "
                                     f"it with every SMS to {self.dlt.required_prefixes[0]}")
        return self


class OtpSettings(_Section):
    ttl_seconds: int = Field(180, ge=30, le=3600)
    max_attempts: int = Field(3, ge=1, le=10)
    resend_cooldown_seconds: int = Field(30, ge=0, le=3600)
    max_per_phone_per_hour: int = Field(5, ge=1, le=100)
    # wrong codes across all of a phone's codes, and from one source (client IP or caller),
    # per hour; past them verification answers 429 with Retry-After
    max_failures_per_phone_per_hour: int = Field(10, ge=1, le=1000)
    max_failures_per_source_per_hour: int = Field(100, ge=1, le=100000)
    api_keys_env: str = "VAXGATE_API_KEYS"


class HealthWorkerSettings(_Section):
    """Health-worker accounts: PIN lock-out and the paper-import limits."""

    max_pin_failures: int = Field(5, ge=1, le=20)
    lock_minutes: int = Field(30, ge=1, le=10080)
    max_pin_failures_per_day: int = Field(10, ge=1, le=1000)  # then locked until the day ends
    list_limit: int = Field(100, ge=5, le=500)
    import_max_megabytes: int = Field(50, ge=1, le=1024)


class UpstreamSettings(_Section):
    """The upstream registry webhook that every registration, booking and vaccination is sent
    to. Empty ``url``: events are kept and marked not required."""

    url: str = ""
    secret_env: str = "VAXGATE_UPSTREAM_SECRET"
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    backoff_base_seconds: int = Field(10, ge=1, le=3600)
    backoff_cap_seconds: int = Field(300, ge=1, le=86400)
    sweep_interval_seconds: int = Field(10, ge=1, le=3600)  # retries are due at this grain
    # `vaxgate worker` drains it after the SMS queues; never otp/notify, ahead of OTPs
    queue: str = Field("upstream", pattern=r"^(upstream|bulk)$")
    max_in_flight: int = Field(4, ge=1, le=1000)  # requests at once, across all workers
    breaker_fail_max: int = Field(5, ge=1, le=1000)  # failures in a row that open the circuit
    breaker_reset_seconds: int = Field(60, ge=1, le=86400)  # open this long, then one probe

    @model_validator(mode="after")
    def _backoff_fits_under_the_cap(self) -> UpstreamSettings:
        if self.backoff_base_seconds > self.backoff_cap_seconds:
            raise ValueError("backoff_base_seconds: must not exceed backoff_cap_seconds")
        if self.breaker_reset_seconds > self.backoff_cap_seconds:
            raise ValueError("breaker_reset_seconds: must not exceed backoff_cap_seconds "
                             "(a recovered registry is probed within one capped backoff)")
        return self


class IvrVoiceSettings(_Section):
    """Who speaks one language on each voice provider; a provider with no voice for it plays
    recordings (docs/ivr.md). `vaxgate menus check` fails a voice of another language."""

    language: str = Field(pattern=r"^[a-z]{2}-[A-Z]{2}$")  # <Say language>, e.g. bn-IN
    twilio_voice: str = ""  # e.g. Polly.Aditi, Google.bn-IN-Standard-A (empty: recordings)
    # Africa's Talking's <Say> reads English only: woman or man for English, else empty
    africastalking_voice: str = ""


def _default_voices() -> dict[str, IvrVoiceSettings]:
    return {"en": IvrVoiceSettings(language="en-IN", twilio_voice="Polly.Aditi",
                                   africastalking_voice="woman"),
            "hi": IvrVoiceSettings(language="hi-IN", twilio_voice="Polly.Aditi"),
            "bn": IvrVoiceSettings(language="bn-IN", twilio_voice="Google.bn-IN-Standard-A")}


class IvrSettings(_Section):
    """Voice calls (docs/ivr.md). Secrets name environment variables, never values."""

    enabled: bool = True
    session_ttl_seconds: int = Field(1800, ge=60, le=86400)
    resume_window_seconds: int = Field(600, ge=0, le=86400)
    gather_timeout_seconds: int = Field(6, ge=2, le=30)
    record_max_seconds: int = Field(10, ge=3, le=60)
    no_input_retries: int = Field(2, ge=0, le=5)
    twilio_auth_token_env: str = "TWILIO_AUTH_TOKEN"
    africastalking_secret_env: str = "AT_VOICE_SECRET"
    # voice providers whose numbers call this gateway; each needs its secret set, or the
    # gateway refuses to start (empty: only the phone simulator calls /ivr/*)
    providers: list[Literal["twilio", "africastalking"]] = Field(default_factory=list)
    public_base_url: str = ""
    audio_base_url: str = ""
    audio_dir: str = "var/ivr_audio"
    voices: dict[str, IvrVoiceSettings] = Field(default_factory=_default_voices)


class QuietHours(_Section):
    """Local wall-clock window (may cross midnight) in which no reminder is sent."""

    start: dt.time = dt.time(21, 0)
    end: dt.time = dt.time(8, 0)


class ReminderSettings(_Section):
    """Reminder SMS before an appointment's time window (docs/reminders.md)."""

    offsets: list[str] = Field(default_factory=lambda: ["24h", "2h"], min_length=1)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    report_days: int = Field(3, ge=1, le=30)  # the district report's default horizon

    @field_validator("offsets")
    @classmethod
    def _durations(cls, value: list[str]) -> list[str]:
        minutes = [duration_minutes(v) for v in value]
        if len(set(minutes)) != len(minutes):
            raise ValueError(f"offsets must differ, got {value}")
        return value

    @property
    def offset_minutes(self) -> list[int]:
        """The offsets in minutes, largest (earliest reminder) first."""
        return sorted((duration_minutes(v) for v in self.offsets), reverse=True)


def duration_minutes(text: str) -> int:
    """``"24h"`` -> 1440, ``"90m"`` -> 90, ``"1h30m"`` -> 90; ValueError otherwise."""
    match = re.fullmatch(r"\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*", str(text))
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration such as 24h, 2h or 90m")
    minutes = int(match[1] or 0) * 60 + int(match[2] or 0)
    if not 1 <= minutes <= 14 * 24 * 60:
        raise ValueError(f"{text!r} must be between 1 minute and 14 days")
    return minutes


class WaitlistSettings(_Section):
    """Waitlist offers when no slot is free (docs/reminders.md)."""

    hold_minutes: int = Field(30, ge=1, le=24 * 60)
    max_offers: int = Field(2, ge=1, le=10)  # unclaimed offers before an entry lapses


class AdminSettings(_Section):
    """The admin console (docs/admin.md): lock-out after repeated failed sign-ins."""

    max_failed_logins: int = Field(5, ge=1, le=100)
    lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    # credential stuffing tries many accounts from one address: failed sign-ins per client
    # address per hour, after which that address is refused (429) until the hour ends
    max_failed_logins_per_source_per_hour: int = Field(30, ge=1, le=10000)
    session_hours: int = Field(12, ge=1, le=24 * 30)


class RetentionSettings(_Section):
    """How long personal data outside the registry itself is kept (docs/security.md).
    ``vaxgate retention run`` and the worker's cron apply it; 0 keeps that kind forever."""

    message_body_days: int = Field(90, ge=0, le=3650)  # SMS texts (ledger + sandbox inbox)
    recording_days: int = Field(30, ge=0, le=3650)  # IVR recorded-name references
    session_days: int = Field(1, ge=0, le=365)  # USSD/IVR session keys left in Redis
    audit_days: int = Field(0, ge=0, le=36500)  # admin and health-worker audit trails
    interval_minutes: int = Field(60, ge=1, le=7 * 24 * 60)  # how often the cron applies it


class WebSettings(_Section):
    """HTTP hardening of every page (docs/admin.md): reverse proxy, TLS, cookies."""

    trust_proxy: int = Field(0, ge=0, le=5)  # proxies whose X-Forwarded-For/-Proto count
    hsts_seconds: int = Field(31_536_000, ge=0, le=2 * 31_536_000)  # 0: no HSTS header
    secure_cookie: Literal["auto", "always"] = "auto"  # auto: Secure when over TLS


class SimulatorSettings(_Section):
    """The phone simulator at /simulator/: on for demos, off in production."""

    enabled: bool = True


class PublicApiSettings(_Section):
    """The keyless availability API for partner apps (/api/v1/public, Co-WIN's shapes)."""

    cache_seconds: int = Field(30, ge=1, le=3600)  # answers are this stale at most
    rate_limit_per_source: str = "300/minute"  # N/second|minute|hour, per client address

    @field_validator("rate_limit_per_source")
    @classmethod
    def _rate(cls, value: str) -> str:
        if not RATE.fullmatch(value.strip()):
            raise ValueError("write it as N/second, N/minute or N/hour, e.g. 300/minute")
        return value.strip()

    def rate_limit(self) -> tuple[int, int]:
        """(requests, window in seconds) from ``rate_limit_per_source``."""
        count, unit = RATE.fullmatch(self.rate_limit_per_source).groups()  # type: ignore[union-attr]
        return int(count), RATE_UNITS[unit]


REDIS_ROLES = {"session": "session_redis_url", "queue": "queue_redis_url"}


class Settings(_Section):
    """Everything a deployment can set. Defaults run the embedded demo."""

    database_url: str = "sqlite:///var/vaxgate.db"
    # a read replica for day lists, exports, reports and statistics; empty: database_url
    database_replica_url: str = ""
    redis_url: str = ""
    # At scale, what may expire (sessions, counters, OTP codes, caches, breakers) and what
    # coordinates work (RQ queues, cron locks) live on separate Redis servers; empty: redis_url.
    session_redis_url: str = ""
    queue_redis_url: str = ""
    secret_key: str = Field(default_factory=lambda: secrets.token_hex(32))
    timezone: str = "Asia/Kolkata"
    ussd: UssdSettings = Field(default_factory=UssdSettings)
    admission: AdmissionSettings = Field(default_factory=AdmissionSettings)
    registration: RegistrationSettings = Field(default_factory=RegistrationSettings)
    booking: BookingSettings = Field(default_factory=BookingSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    otp: OtpSettings = Field(default_factory=OtpSettings)
    ivr: IvrSettings = Field(default_factory=IvrSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    public_api: PublicApiSettings = Field(default_factory=PublicApiSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    waitlist: WaitlistSettings = Field(default_factory=WaitlistSettings)
    health_workers: HealthWorkerSettings = Field(default_factory=HealthWorkerSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    demo_data: bool = True
    testing: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: "Asia" (a folder)
            raise ValueError(f"unknown time zone {value[:60]!r}") from exc
        return value

    def redis_setting(self, role: str) -> str:
        """The key that names the Redis for ``role`` ("session" or "queue"): its own key when
        set, else ``redis_url``."""
        key = REDIS_ROLES[role]
        return key if getattr(self, key) else "redis_url"

    def redis_url_for(self, role: str) -> str:
        """The Redis URL for ``role``: "session" (what may expire) or "queue" (RQ, cron)."""
        return getattr(self, self.redis_setting(role))

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _absolute_sqlite_path(cls, value: str) -> str:
        prefix = "sqlite:///"
        if value.startswith(prefix) and not value.startswith(prefix + "/"):
            relative = value[len(prefix):]
            if relative and relative != ":memory:":
                return prefix + str(PROJECT_DIR / relative)
        return value


ENV_OVERRIDES = {
    "VAXGATE_DATABASE_URL": "database_url",
    "VAXGATE_DATABASE_REPLICA_URL": "database_replica_url",
    "VAXGATE_REDIS_URL": "redis_url",
    "VAXGATE_SESSION_REDIS_URL": "session_redis_url",
    "VAXGATE_QUEUE_REDIS_URL": "queue_redis_url",
    "VAXGATE_SECRET_KEY": "secret_key",
}


def load_settings(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the YAML (``VAXGATE_CONFIG`` or config.yaml), then apply env and explicit overrides."""
    env = os.environ if env is None else env
    path = Path(path or env.get("VAXGATE_CONFIG") or DEFAULT_CONFIG_PATH)
    raw = _read_yaml(path)
    for var, key in ENV_OVERRIDES.items():
        if env.get(var):
            raw[key] = env[var]
    raw.update(overrides or {})
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path.name, exc)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(f"{path}: file not found (set VAXGATE_CONFIG or create config.yaml)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path.name}: not valid YAML: nested too deeply") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: the top level must be a mapping of settings")
    return data


def _describe(filename: str, exc: ValidationError) -> str:
    lines = [f"{filename}: {'.'.join(_key(p) for p in err['loc'])}: {err['msg']}"
             for err in exc.errors()]
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _key(part: Any) -> str:
    """One part of a key path; a key that is not plain text is quoted (one line per error)."""
    text = str(part)
    return text if text.isprintable() and text.strip() == text else repr(text)
