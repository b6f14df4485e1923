"""Blueprint ``gupshup``: Gupshup's delivery reports, ``GET|POST /sms/gupshup/delivery``.

Gupshup calls the URL set in its panel with ``externalId`` (the id its send answered),
``deliveredTS``, ``status`` (``SUCCESS``, ``FAIL``/``FAILURE``, ``UNKNOWN``), ``cause``,
``phoneNo``, ``errCode`` and ``noOfFrags``, as query parameters or a form. It does not sign
them, so the URL carries the provider's ``webhook_secret_env`` secret as ``?secret=``,
compared in constant time. Unknown ids and statuses get 200 (so Gupshup stops retrying);
a malformed report gets a 400 naming the field; a replay never moves a final status back.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.api.errors import error
from gateway.sms.reports import PENDING, Report, Rule, apply_report, classify
from gateway.sms.secrets import read_secret
from gateway.storage.ledger import Verdict
from gateway.web.runtime import get_runtime
from gateway.web.webhook_security import signed_form_fields

bp = Blueprint("gupshup", __name__)
log = logging.getLogger("vaxgate.sms")

# Gupshup's DLR ``status``, lower-cased: its documentation names SUCCESS, FAILURE and
# UNKNOWN, and its reports also say FAIL.
GUPSHUP_STATUS: dict[str, Rule] = {
    "success": Rule(Verdict.DELIVERED, "the operator confirmed delivery to the handset"),
    "fail": Rule(Verdict.FAIL_OVER, "the operator could not deliver it"),
    "failure": Rule(Verdict.FAIL_OVER, "the operator could not deliver it"),
    "unknown": Rule(PENDING, "the operator gave no final receipt"),
}

# The ``cause`` of a failed report, lower-cased (its ``errCode`` in GUPSHUP_CAUSE_OF_CODE).
GUPSHUP_REASON: dict[str, Rule] = {
    "absent_subscriber": Rule(Verdict.FAIL_OVER, "the handset was unreachable; another route "
                                                 "may reach it"),
    "call_barred": Rule(Verdict.FINAL, "the subscriber bars messages from unknown senders"),
    "unknown_subscriber": Rule(Verdict.FINAL, "the number does not exist"),
    "service_down": Rule(Verdict.FAIL_OVER, "the operator's service was down; another route "
                                            "may pass"),
    "system_failure": Rule(Verdict.FAIL_OVER, "a failure in an operator's systems"),
    "dnd_fail": Rule(Verdict.FINAL, "the number is on the do-not-disturb register or blocked"),
    "blocked": Rule(Verdict.FINAL, "the recipient blocked this sender"),
    "dnd_timeout": Rule(Verdict.RETRY_SAME, "the DLT do-not-disturb check timed out; a later "
                                            "try may pass"),
    "outside_working_hours": Rule(Verdict.RETRY_SAME, "outside DLT's sending hours; a later "
                                                      "try may pass"),
}
GUPSHUP_CAUSE_OF_CODE = {"001": "absent_subscriber", "002": "call_barred",
                         "003": "unknown_subscriber", "004": "service_down",
                         "005": "system_failure", "006": "dnd_fail", "007": "blocked",
                         "008": "dnd_timeout", "009": "outside_working_hours"}


class GupshupReport(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    externalId: str = Field(pattern=r"^[A-Za-z0-9_.:-]{2,64}$")
    status: str = Field(pattern=r"^[A-Za-z_]{1,20}$")
    cause: str = Field("", max_length=100)
    errCode: str = Field("", max_length=20)


@bp.route("/sms/gupshup/delivery", methods=["GET", "POST"])
def gupshup_delivery() -> Response:
    """Apply a Gupshup delivery report (``?secret=`` required)."""
    if not _secret_ok():
        return _error(403, "bad_secret", "webhook secret is missing or wrong", field="secret")
    try:
        report = GupshupReport.model_validate(_fields())
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        return _error(400, "invalid_payload", f"{field}: {err['msg']}", field=field)
    classified = classify_gupshup(report.status, report.cause, report.errCode)
    if classified is None:
        return jsonify({"ok": True, "known": False, "ignored": "unknown status"})
    return _apply(report, classified)


def classify_gupshup(status: str, cause: str = "", err_code: str = "") -> Report | None:
    """A Gupshup report's status and its ``cause`` (else its ``errCode``), classified."""
    reason = cause if cause.lower() in GUPSHUP_REASON else \
        GUPSHUP_CAUSE_OF_CODE.get(err_code, cause)
    return classify("gupshup", GUPSHUP_STATUS, GUPSHUP_REASON, status, reason)


def _fields() -> dict[str, Any]:
    """Query parameters and form fields together (Gupshup sends either)."""
    return {**request.args.to_dict(), **signed_form_fields(request.form)}


def _secret_ok() -> bool:
    given = request.args.get("secret", "")
    expected = [read_secret(p.webhook_secret_env) for p in get_runtime().settings.sms.providers
                if p.kind == "gupshup" and p.enabled and p.webhook_secret_env]
    return bool(given) and any(
        hmac.compare_digest(given.encode(), e.encode()) for e in expected if e)


def _apply(report: GupshupReport, classified: Report) -> Response:
    detail = " ".join(filter(None, (report.errCode, report.cause)))
    reason = f"{classified.reason} ({detail})" if classified.reason and detail else \
        classified.reason
    with get_runtime().db.write() as session:
        known = apply_report(session, report.externalId, classified.verdict, reason) is not None
    if not known:
        log.info("gupshup report for unknown id %s ignored", report.externalId[:64])
    return jsonify({"ok": True, "known": known})


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    return error(status, code, message, **extra)
