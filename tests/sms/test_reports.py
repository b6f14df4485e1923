"""Delivery reports: every documented status and reason has a verdict, reports in each
provider's format are applied without ever going backwards, and what they mean for a
re-send, through the real SDKs against the fake provider server."""
from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest.api.v2010.account.message import MessageInstance

from gateway.sms import outbox
from gateway.sms.reports import (
    AFRICASTALKING_REASON,
    AFRICASTALKING_STATUS,
    TWILIO_ERROR,
    TWILIO_STATUS,
    classify_africastalking,
    classify_twilio,
)
from gateway.sms.sweeper import sweep

from .support import AT_SECRET, TWILIO_TOKEN, attempts, message, record, run_worker

CLASSIFY = {"twilio": classify_twilio, "africastalking": classify_africastalking}
VERDICTS = [  # provider, status, reason, verdict
    ("twilio", "queued", "", "pending"),
    ("twilio", "sent", "", "pending"),
    ("twilio", "delivered", "", "delivered"),
    ("twilio", "read", "", "delivered"),
    ("twilio", "canceled", "", "final"),
    ("twilio", "undelivered", "", "fail_over"),
    ("twilio", "undelivered", "30003", "fail_over"),
    ("twilio", "undelivered", "30007", "fail_over"),
    ("twilio", "failed", "30008", "fail_over"),
    ("twilio", "failed", "30002", "fail_over"),
    ("twilio", "failed", "21408", "fail_over"),
    ("twilio", "failed", "30001", "retry_same"),
    ("twilio", "undelivered", "30005", "final"),
    ("twilio", "undelivered", "30006", "final"),
    ("twilio", "failed", "21211", "final"),
    ("twilio", "failed", "21610", "final"),
    ("twilio", "undelivered", "39999", "fail_over"),  # unknown code: the status's rule
    ("africastalking", "Sent", "", "pending"),
    ("africastalking", "Buffered", "", "pending"),
    ("africastalking", "Success", "", "delivered"),
    ("africastalking", "Rejected", "", "fail_over"),
    ("africastalking", "Rejected", "InsufficientCredit", "fail_over"),
    ("africastalking", "Failed", "InsufficientCredit", "fail_over"),
    ("africastalking", "Failed", "NotNetworkSubscriber", "fail_over"),
    ("africastalking", "Failed", "DeliveryFailure", "fail_over"),
    ("africastalking", "Rejected", "UserInBlackList", "final"),
    ("africastalking", "Failed", "UserInBlacklist", "final"),
    ("africastalking", "Failed", "UserDoesNotExist", "final"),
    ("africastalking", "Failed", "DNDReject", "final"),
    ("africastalking", "Failed", "SomethingNew", "fail_over"),
]


@pytest.mark.parametrize(("provider", "status", "reason", "verdict"), VERDICTS,
                         ids=[f"{p}-{s}-{r}" for p, s, r, _ in VERDICTS])
def test_each_status_and_reason_has_its_verdict(provider, status, reason, verdict):
    assert CLASSIFY[provider](status, reason).verdict.value == verdict


def test_every_message_status_twilio_documents_is_classified():
    documented = {v for k, v in vars(MessageInstance.Status).items() if not k.startswith("_")}
    assert documented == set(TWILIO_STATUS)


def test_every_rule_says_why_in_one_short_line():
    tables = (TWILIO_STATUS, TWILIO_ERROR, AFRICASTALKING_STATUS, AFRICASTALKING_REASON)
    for rule in (rule for table in tables for rule in table.values()):
        assert 0 < len(rule.why) <= 90 and "\n" not in rule.why


@pytest.mark.parametrize(("provider", "status"), [("twilio", "teleported"),
                                                  ("africastalking", "Lost")])
def test_an_unknown_status_is_logged_and_not_classified(provider, status, caplog):
    assert CLASSIFY[provider](status, "") is None
    assert "unknown status" in caplog.text


# ---- through the webhooks ----------------------------------------------------------------

@pytest.fixture
def worker_ctx(sms_app, ctx):
    return ctx


def _sent(ctx, db, fake, provider: str = "twilio", kind: str = "confirmation"):
    """A message accepted by ``provider``; returns (id, the provider's message id)."""
    if provider == "africastalking":
        fake.twilio.mode = "5xx"
    mid = record(db, kind=kind)
    outbox.enqueue_messages(ctx.redis, [mid], settings=ctx.settings.sms)
    run_worker(ctx)
    fake.reset()
    sent = message(db, mid)
    assert sent.provider == provider
    return mid, sent.provider_message_id


def _report(client, provider: str, provider_id: str, status: str, reason: str = ""):
    if provider == "twilio":
        form = {"MessageSid": provider_id, "MessageStatus": status}
        form.update({"ErrorCode": reason} if reason else {})
        url = "http://localhost/sms/twilio/status"
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
        return client.post(url, data=form, headers={"X-Twilio-Signature": signature})
    form = {"id": provider_id, "status": status, "failureReason": reason}
    return client.post(f"/sms/africastalking/delivery?secret={AT_SECRET}", data=form)


def _resend_due(ctx) -> int:
    """Run the sweeper, then the worker; how many messages were sent again."""
    resent = sweep(ctx)["resent"]
    run_worker(ctx)
    return resent


OTHER = {"twilio": "africastalking", "africastalking": "twilio"}
OUTCOMES = [  # provider, status, reason, message status, re-sent through the other provider
    ("twilio", "undelivered", "30007", "undelivered", True),
    ("twilio", "undelivered", "30003", "undelivered", True),
    ("twilio", "failed", "21610", "failed", False),
    ("twilio", "undelivered", "30006", "failed", False),
    ("africastalking", "Rejected", "InsufficientCredit", "undelivered", True),
    ("africastalking", "Failed", "DeliveryFailure", "undelivered", True),
    ("africastalking", "Rejected", "UserInBlackList", "failed", False),
    ("africastalking", "Failed", "UserDoesNotExist", "failed", False),
]


@pytest.mark.parametrize(("provider", "status", "reason", "after", "resent"), OUTCOMES,
                         ids=[f"{p}-{r}" for p, _, r, _, _ in OUTCOMES])
def test_a_report_fails_over_or_ends_as_its_reason_says(sms_client, worker_ctx, db, fake,
                                                        provider, status, reason, after,
                                                        resent):
    mid, provider_id = _sent(worker_ctx, db, fake, provider)
    reply = _report(sms_client, provider, provider_id, status, reason)
    assert reply.status_code == 200 and reply.json["known"] is True
    reported = message(db, mid)
    assert reported.status == after
    assert reported.status_reason.startswith(f"{provider} {reason}:")
    assert _resend_due(worker_ctx) == int(resent)
    other = getattr(fake, OTHER[provider])
    assert len(other.delivered()) == int(resent)
    assert len(getattr(fake, provider).received) == 0  # never twice through the same one


@pytest.mark.parametrize(("provider", "status", "reason"), [
    ("twilio", "teleported", ""), ("twilio", "undelivered", "99999"),
    ("africastalking", "Lost", ""), ("africastalking", "Failed", "MoonPhase")])
def test_unknown_statuses_and_reasons_are_answered_200(sms_client, worker_ctx, db, fake,
                                                       provider, status, reason):
    mid, provider_id = _sent(worker_ctx, db, fake, provider)
    reply = _report(sms_client, provider, provider_id, status, reason)
    assert reply.status_code == 200
    expected = "sent" if status in ("teleported", "Lost") else "undelivered"
    assert message(db, mid).status == expected


@pytest.mark.parametrize("provider", ["twilio", "africastalking"])
def test_a_report_for_a_message_we_never_sent_gets_200(sms_client, worker_ctx, provider):
    status = "delivered" if provider == "twilio" else "Success"
    reply = _report(sms_client, provider, "SMnever0000000000000000000000001", status)
    assert reply.status_code == 200 and reply.json["known"] is False


SEQUENCES = [  # twilio reports in the order they arrive -> the message's status
    ([("delivered", ""), ("undelivered", "30003")], "delivered"),
    ([("delivered", ""), ("sent", "")], "delivered"),
    ([("failed", "21610"), ("undelivered", "30003")], "failed"),
    ([("undelivered", "30005"), ("failed", "30008")], "failed"),
    ([("undelivered", "30003"), ("undelivered", "30003")], "undelivered"),
    ([("failed", "21610"), ("delivered", "")], "delivered"),  # a late delivered still wins
    ([("sent", ""), ("teleported", ""), ("delivered", "")], "delivered"),
]


@pytest.mark.parametrize(("reports", "final"), SEQUENCES)
def test_replayed_and_late_reports_never_move_a_final_status_backwards(
        sms_client, worker_ctx, db, fake, reports, final):
    mid, sid = _sent(worker_ctx, db, fake)
    for status, code in reports:
        assert _report(sms_client, "twilio", sid, status, code).status_code == 200
    assert message(db, mid).status == final


def test_a_stale_report_cannot_undo_the_re_send_in_progress(sms_client, worker_ctx, db, fake):
    mid, sid = _sent(worker_ctx, db, fake)
    _report(sms_client, "twilio", sid, "undelivered", "30003")
    assert _resend_due(worker_ctx) == 1
    _report(sms_client, "twilio", sid, "failed", "30005")  # a replay of the old send's fate
    resent = message(db, mid)
    assert (resent.status, resent.provider) == ("sent", "africastalking")


def test_retry_same_lets_the_provider_take_the_message_again_after_the_others(
        sms_client, worker_ctx, db, fake):
    mid, sid = _sent(worker_ctx, db, fake)
    _report(sms_client, "twilio", sid, "failed", "30001")  # Twilio's queue overflowed
    assert _resend_due(worker_ctx) == 1 and len(fake.africastalking.delivered()) == 1
    _report(sms_client, "africastalking", message(db, mid).provider_message_id, "Failed",
            "DeliveryFailure")
    assert _resend_due(worker_ctx) == 1 and len(fake.twilio.delivered()) == 1
    _report(sms_client, "twilio", message(db, mid).provider_message_id, "failed", "30001")
    assert _resend_due(worker_ctx) == 0  # each provider had its turn(s)
    assert message(db, mid).status == "failed"
    assert [(p, o) for p, o, _ in attempts(db, mid)] == [
        ("twilio", "accepted"), ("africastalking", "accepted"), ("twilio", "accepted")]
