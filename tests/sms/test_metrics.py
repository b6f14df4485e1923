"""SMS metrics on /metrics: per provider, per kind, breaker states and OTP counters."""
from __future__ import annotations

import datetime as dt
import re

from gateway.sms import outbox
from gateway.storage.models import utcnow

from .support import record, run_worker
from .test_otp_and_webhooks import AUTH, _code_sent


def _value(text: str, name: str, default: float | None = None, **labels) -> float:
    """The sample ``name{labels}`` of a Prometheus text page (``default`` if absent)."""
    for line in text.splitlines():
        found = re.match(rf"{name}\{{(.*)\}} (\S+)$", line)
        if found and all(f'{k}="{v}"' in found.group(1) for k, v in labels.items()):
            return float(found.group(2))
    if default is None:
        raise AssertionError(f"no {name}{labels} in /metrics")
    return default


def test_metrics_show_sends_backlog_breakers_and_otps(sms_client, ctx, fake, db):
    before = sms_client.get("/metrics").text
    fake.twilio.mode = "5xx"
    outbox.enqueue_messages(ctx.redis, [record(db)], settings=ctx.settings.sms)
    run_worker(ctx)
    record(db, kind="reminder", key="waiting")  # recorded, not yet enqueued
    txn = sms_client.post("/api/v1/otp", json={"phone": "9812345679"}, headers=AUTH).json
    run_worker(ctx)
    fake.twilio.mode = "ok"
    sms_client.post("/api/v1/otp/verify", headers=AUTH,
                    json={"transaction_id": txn["transaction_id"], "code": _code_sent(fake)})
    page = sms_client.get("/metrics").text
    grew = {name: _value(page, name, **labels) - _value(before, name, 0, **labels)
            for name, labels in [("vaxgate_sms_sent_total", {"provider": "africastalking",
                                                              "kind": "confirmation"}),
                                 ("vaxgate_sms_failed_total", {"provider": "twilio",
                                                                "error": "retryable"})]}
    assert grew == {"vaxgate_sms_sent_total": 1, "vaxgate_sms_failed_total": 2}
    assert _value(page, "vaxgate_sms_queued_messages", kind="reminder") == 1
    assert _value(page, "vaxgate_sms_oldest_queued_seconds", kind="reminder") >= 0
    assert _value(page, "vaxgate_sms_send_seconds_count", provider="twilio") >= 2
    assert _value(page, "vaxgate_sms_breaker_state", provider="twilio", state="closed") == 1
    for name in ("vaxgate_otp_requested_total", "vaxgate_otp_sent_total",
                 "vaxgate_otp_verified_total"):
        assert re.search(rf"^{name} [1-9]", page, re.M), name


def test_an_otp_that_expired_unsent_is_counted(sms_client, ctx, fake, db):
    def expired(page: str) -> float:
        found = re.search(r"^vaxgate_otp_expired_total (\S+)$", page, re.M)
        return float(found.group(1)) if found else 0.0

    before = expired(sms_client.get("/metrics").text)
    mid = record(db, kind="otp", key="late", expires_at=utcnow() - dt.timedelta(seconds=1))
    outbox.enqueue_messages(ctx.redis, [mid], queue="otp", settings=ctx.settings.sms)
    run_worker(ctx)
    assert expired(sms_client.get("/metrics").text) == before + 1
    assert fake.twilio.received == fake.africastalking.received == []
