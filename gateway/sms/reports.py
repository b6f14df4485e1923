"""Delivery reports: what each provider status and reason means, and applying it to the ledger.

Every documented status and failure reason is in a table below with its :class:`Verdict` and
why. *final*: nobody can deliver it (the message is ``failed``, never re-sent); *fail-over*:
another provider may (``undelivered``; the sweeper re-sends it through a provider not yet
used for it); *retry-same*: this provider may on a later try (``undelivered``; it may take
the message once more, after any other provider). A failure reason overrides its status;
an unknown reason falls back to its status's rule, and an unknown status changes nothing.
Either is logged; the webhook answers 200 so the provider stops retrying.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.storage.ledger import Message, MessageStatus, SendAttempt, Verdict
from gateway.storage.models import utcnow

log = logging.getLogger("vaxgate.sms")


@dataclass(frozen=True)
class Rule:
    """How one provider status or reason is treated, and why (docs/providers.md lists them)."""

    verdict: Verdict
    why: str


PENDING, DELIVERED, FINAL = Verdict.PENDING, Verdict.DELIVERED, Verdict.FINAL
RETRY, OVER = Verdict.RETRY_SAME, Verdict.FAIL_OVER

# Twilio MessageStatus values (the SDK's MessageInstance.Status).
TWILIO_STATUS: dict[str, Rule] = {
    "queued": Rule(PENDING, "waiting in Twilio's queue"),
    "accepted": Rule(PENDING, "taken by a Messaging Service"),
    "scheduled": Rule(PENDING, "scheduled for later"),
    "sending": Rule(PENDING, "being handed to the carrier"),
    "sent": Rule(PENDING, "the carrier has it; a delivery receipt may follow"),
    "receiving": Rule(PENDING, "a status of inbound messages, never of ours"),
    "received": Rule(PENDING, "a status of inbound messages, never of ours"),
    "delivered": Rule(DELIVERED, "the carrier confirmed delivery to the handset"),
    "read": Rule(DELIVERED, "the recipient read it"),
    "partially_delivered": Rule(DELIVERED, "some segments arrived; a re-send would repeat them"),
    "canceled": Rule(FINAL, "cancelled before sending (only we can cancel)"),
    "undelivered": Rule(OVER, "the carrier could not deliver it"),
    "failed": Rule(OVER, "Twilio could not send it"),
}

# Twilio ErrorCode of a failed/undelivered report (also answered by the API at send time).
TWILIO_ERROR: dict[str, Rule] = {
    "30001": Rule(RETRY, "queue overflow: Twilio never sent it, a later try may pass"),
    "30002": Rule(OVER, "our Twilio account is suspended"),
    "30003": Rule(OVER, "handset unreachable (off, no coverage); another route may reach it"),
    "30004": Rule(FINAL, "the recipient or their carrier blocks it"),
    "30005": Rule(FINAL, "unknown handset: the number does not exist"),
    "30006": Rule(FINAL, "a landline or a carrier that cannot take SMS"),
    "30007": Rule(OVER, "filtered by the carrier; another sender route may pass"),
    "30008": Rule(OVER, "unknown error at Twilio or the carrier"),
    "30009": Rule(OVER, "a segment went missing: the text may not be whole"),
    "30010": Rule(OVER, "the price exceeds the account's max price"),
    "30017": Rule(RETRY, "carrier network congestion: a later try may pass"),
    "30018": Rule(OVER, "the carrier needs a pre-registered sender ID on this route"),
    "30022": Rule(RETRY, "US A2P 10DLC throughput exceeded: a later try may pass"),
    "30023": Rule(OVER, "US A2P 10DLC daily cap reached"),
    "30024": Rule(OVER, "numeric sender ID not provisioned with the carrier"),
    "30027": Rule(OVER, "US A2P 10DLC T-Mobile daily limit reached"),
    "30032": Rule(OVER, "toll-free sender not verified"),
    "30034": Rule(OVER, "US A2P 10DLC sender not registered"),
    "21211": Rule(FINAL, "invalid 'To' number"),
    "21214": Rule(FINAL, "the 'To' number cannot be reached by anyone"),
    "21217": Rule(FINAL, "the 'To' number is not a valid phone number"),
    "21408": Rule(OVER, "our account may not send to this region"),
    "21606": Rule(OVER, "our 'From' number cannot send to this destination"),
    "21608": Rule(OVER, "a trial account may send only to verified numbers"),
    "21610": Rule(FINAL, "the recipient opted out (replied STOP)"),
    "21612": Rule(OVER, "this 'From' number cannot reach the 'To' number"),
    "21614": Rule(FINAL, "the 'To' number is not a mobile number"),
    "21617": Rule(FINAL, "the text is over 1600 characters for every provider"),
}

# Africa's Talking delivery-report ``status`` values, lower-cased.
AFRICASTALKING_STATUS: dict[str, Rule] = {
    "sent": Rule(PENDING, "Africa's Talking sent it on"),
    "submitted": Rule(PENDING, "submitted to the operator"),
    "buffered": Rule(PENDING, "queued by the operator (handset off?)"),
    "success": Rule(DELIVERED, "delivered to the handset"),
    "rejected": Rule(OVER, "the operator refused it"),
    "failed": Rule(OVER, "the operator could not deliver it"),
    "absentsubscriber": Rule(OVER, "the handset was unreachable"),
    "expired": Rule(OVER, "the operator gave up before the handset was reachable"),
}

# Africa's Talking ``failureReason`` values of Rejected/Failed reports, lower-cased.
AFRICASTALKING_REASON: dict[str, Rule] = {
    "insufficientcredit": Rule(OVER, "no credit for this send; another provider needs none"),
    "invalidlinkid": Rule(OVER, "a premium-SMS link id problem on our side"),
    "userisinactive": Rule(FINAL, "the SIM is inactive or deactivated by the operator"),
    "userinblacklist": Rule(FINAL, "the recipient blocked messages from this sender"),
    "useraccountsuspended": Rule(FINAL, "the operator suspended the subscriber"),
    "notnetworksubscriber": Rule(OVER, "routed to an operator the number is not on (ported)"),
    "usernotsubscribedtoproduct": Rule(OVER, "sent as a subscription product; another route "
                                             "needs no subscription"),
    "userdoesnotexist": Rule(FINAL, "the number does not exist"),
    "deliveryfailure": Rule(OVER, "failed for a reason the operator did not give"),
    "dndreject": Rule(FINAL, "the number is on the do-not-disturb register"),
}

STATUS_OF = {DELIVERED: MessageStatus.DELIVERED, FINAL: MessageStatus.FAILED,
             OVER: MessageStatus.UNDELIVERED, RETRY: MessageStatus.UNDELIVERED}
# for callers that still pass a MessageStatus
VERDICT_OF = {MessageStatus.DELIVERED: DELIVERED, MessageStatus.FAILED: FINAL,
              MessageStatus.UNDELIVERED: OVER, MessageStatus.EXPIRED: OVER}


@dataclass(frozen=True)
class Report:
    """A classified delivery report: its verdict and the reason the ledger shows."""

    verdict: Verdict
    reason: str


def classify(provider: str, statuses: dict[str, Rule], reasons: dict[str, Rule],
             status: str, code: str = "") -> Report | None:
    """The report for ``status`` (and its failure ``code``); None for an unknown status."""
    rule = statuses.get(status.lower())
    if rule is None:
        log.warning("%s delivery report with unknown status %r ignored", provider, status[:40])
        return None
    if code and rule.verdict in (OVER, RETRY, FINAL):
        known = reasons.get(code.lower())
        if known is None:
            log.warning("%s delivery report: unknown reason %r, treated as %s", provider,
                        code[:40], status[:40])
        rule = known or rule
    failed = rule.verdict not in (PENDING, DELIVERED)
    return Report(rule.verdict, f"{provider} {code or status}: {rule.why}" if failed else "")


def classify_twilio(status: str, error_code: str = "") -> Report | None:
    """A Twilio status callback's MessageStatus and ErrorCode, classified."""
    return classify("twilio", TWILIO_STATUS, TWILIO_ERROR, status, error_code)


def classify_africastalking(status: str, reason: str = "") -> Report | None:
    """An Africa's Talking delivery report's status and failureReason, classified."""
    return classify("africastalking", AFRICASTALKING_STATUS, AFRICASTALKING_REASON, status,
                    reason)


def apply_report(session: Session, provider_message_id: str,
                 verdict: Verdict | MessageStatus, reason: str = "") -> Message | None:
    """Apply a delivery report; None when no attempt has that provider id (unknown).

    The attempt keeps its first verdict. ``delivered`` always wins (a late report from an
    earlier provider still proves delivery). Other verdicts only apply to a message still
    ``sent`` through that very provider id, so a replayed or stale report cannot undo a
    final status or a re-send in progress.
    """
    verdict = VERDICT_OF.get(verdict, PENDING) if isinstance(verdict, MessageStatus) \
        else Verdict(verdict)
    attempt = session.scalar(select(SendAttempt).where(
        SendAttempt.provider_message_id == provider_message_id)
        .order_by(SendAttempt.id.desc()).limit(1))
    if attempt is None:
        return None
    message = attempt.message
    if verdict is PENDING:
        return message
    if attempt.report_verdict is None or (verdict is DELIVERED
                                          and attempt.report_verdict != DELIVERED.value):
        attempt.report_verdict = verdict.value
    if _applies(message, provider_message_id, verdict):
        message.status, message.status_reason = STATUS_OF[verdict].value, reason[:200]
        message.updated_at = utcnow()
        if verdict is DELIVERED:
            message.delivered_at = message.updated_at
    return message


def _applies(message: Message, provider_message_id: str, verdict: Verdict) -> bool:
    if verdict is DELIVERED:
        return message.status != MessageStatus.DELIVERED.value
    return (message.status == MessageStatus.SENT.value
            and message.provider_message_id == provider_message_id)
