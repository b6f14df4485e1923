"""The health-worker journey's actions (health_worker.yaml), added to the engine's ACTIONS.

Each takes the RegistryActions service (db, settings, channel, clock, SMS enqueue) and the
session vars. After the PIN, every action re-reads the worker by the session's phone and
refuses unless ``hw_ok`` was set by a correct PIN in this session and the account is not
locked. PIN and OTP answers are blanked from the session vars as soon as they are checked.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.flows import ActionResult, Item
from gateway.healthworkers import accounts, audit, center_day
from gateway.registry import appointments, beneficiaries, notifications
from gateway.registry.errors import (
    AlreadyBooked,
    BeneficiaryCapReached,
    NotEligible,
    NotFound,
    RegistryError,
    SlotFull,
)
from gateway.sms.errors import OtpError, OtpMismatch, OtpRateLimited
from gateway.sms.otp import OtpService
from gateway.storage.models import AppointmentStatus, Beneficiary, Center
from gateway.text import i18n
from gateway.text.phones import InvalidPhone, parse_phone
from gateway.upstream import sweeper as upstream

if TYPE_CHECKING:
    from gateway.registry.actions import RegistryActions

Vars = dict[str, Any]
HW_CHANNEL = "hw_ussd"  # the channel of what workers create (the audit keeps "ussd")


def _worker(session, vars: Vars):
    """The signed-in worker of this session, or NotFound (the journey then ends)."""
    worker = accounts.by_phone(session, vars["phone"])
    if worker is None or vars.get("hw_ok") != "1" or accounts.locked_until(worker):
        raise NotFound("not a signed-in health worker")
    return worker


def _otp(svc: RegistryActions) -> OtpService:
    return OtpService(svc.settings, svc.db, svc.redis("session"), svc.redis("queue"))


def _after_commit(svc: RegistryActions, sms_ids: list[int], beneficiary_ids: list[int]) -> None:
    """Send the ledger SMS and nudge upstream delivery; failures are left to the sweepers."""
    svc._send([i for i in sms_ids if i])
    if svc.settings.upstream.url:
        upstream.enqueue_after_commit(svc.redis("queue"),
                                      svc.settings, beneficiary_ids)


# --- recognising the caller and the PIN ---------------------------------------------------

def recognise_caller(svc: RegistryActions, vars: Vars) -> ActionResult:
    """``health_worker`` for a registered worker's phone on USSD, ``citizen`` otherwise.

    The worker journey needs typed names and codes, so voice calls (IVR) from a worker's
    phone get the citizen journey; workers use USSD or the SMS commands.
    """
    if svc.channel != "ussd" or not accounts.is_worker_phone(svc.db, vars["phone"]):
        return ActionResult("citizen")
    with svc.db.read() as session:
        worker = accounts.by_phone(session, vars["phone"])
        if worker is None:
            return ActionResult("citizen")
        lang = beneficiaries.get_language(session, vars["phone"]) or i18n.DEFAULT_LANGUAGE
        center = session.get(Center, worker.center_id)
        return ActionResult("health_worker", {"lang": lang, "hw_name": worker.name,
                                              "hw_center_name": center.name})


def hw_start(svc: RegistryActions, vars: Vars) -> ActionResult:
    """``locked``, ``new_pin`` (first use) or ``pin``."""
    with svc.db.read() as session:
        worker = accounts.by_phone(session, vars["phone"])
        if worker is None:
            raise NotFound("not a health worker")
        until = accounts.locked_until(worker)
        if until:
            return ActionResult("locked", {"locked_until": _local_time(svc, until)})
        return ActionResult("pin" if worker.pin_hash else "new_pin")


def hw_set_pin(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Set the first PIN when both entries match."""
    first, second = str(vars.get("new_pin", "")), str(vars.get("new_pin2", ""))
    cleared = {"new_pin": "", "new_pin2": ""}
    if first != second:
        return ActionResult("mismatch", cleared)
    with svc.db.write() as session:
        worker = accounts.by_phone(session, vars["phone"])
        if worker is None or worker.pin_hash:
            raise NotFound("no worker without a PIN on this phone")
        accounts.set_pin(session, worker, first)
        audit.record(session, worker, channel=svc.channel, action="pin_set")
    return ActionResult("ok", {**cleared, "hw_ok": "1"})


def hw_check_pin(svc: RegistryActions, vars: Vars) -> ActionResult:
    """``ok``, ``wrong`` (with ``pin_tries_left``) or ``locked``."""
    rules = svc.settings.health_workers
    with svc.db.write() as session:
        worker = accounts.by_phone(session, vars["phone"])
        if worker is None:
            raise NotFound("not a health worker")
        verdict = accounts.check_pin(session, worker, str(vars.get("pin", "")), rules,
                                     daily=accounts.daily_failures(
                                         svc.redis("session"), rules))
        action = "sign_in" if verdict.ok else ("locked" if verdict.locked_until else "wrong_pin")
        audit.record(session, worker, channel=svc.channel, action=action)
    if verdict.ok:
        return ActionResult("ok", {"pin": "", "hw_ok": "1"})
    if verdict.locked_until:
        return ActionResult("locked", {"pin": "", "locked_until": _local_time(
            svc, verdict.locked_until)})
    return ActionResult("wrong", {"pin": "", "pin_tries_left": verdict.tries_left})


# --- registering for someone -------------------------------------------------------------

def hw_check_phone(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Parse the typed phone; ``own`` (OTP consent needed), ``family`` or ``invalid``."""
    try:
        phone = parse_phone(str(vars.get("phone_typed", "")))
    except InvalidPhone:
        return ActionResult("invalid")
    return ActionResult(vars.get("link", "family"), {"benef_phone": phone})


def hw_send_otp(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Send the consent code to the person's own phone; ``ok`` or ``wait``."""
    try:
        sent = _otp(svc).request(vars["benef_phone"], vars.get("lang") or i18n.DEFAULT_LANGUAGE)
    except OtpRateLimited as exc:
        return ActionResult("wait", {"retry_after": exc.retry_after})
    return ActionResult("ok", {"consent_txn": sent.transaction_id, "consent": ""})


def hw_verify_otp(svc: RegistryActions, vars: Vars) -> ActionResult:
    """``ok`` (consent given), ``wrong`` (tries left) or ``expired`` (ask for a new code)."""
    try:
        phone = _otp(svc).verify(str(vars.get("consent_txn", "")), str(vars.get("otp", "")),
                                 source=f"caller:{vars['phone']}")
    except OtpMismatch as exc:
        return ActionResult("wrong", {"otp": "", "otp_tries_left": exc.attempts_left})
    except OtpError:
        return ActionResult("expired", {"otp": ""})
    if phone != vars.get("benef_phone"):
        return ActionResult("expired", {"otp": ""})
    return ActionResult("ok", {"otp": "", "consent": "otp"})


def hw_register(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Register the person on the linked phone; ``ok``/``walk_in``, ``full``, ``not_eligible``."""
    rules = svc.settings.registration
    person = beneficiaries.NewBeneficiary(
        phone=vars["benef_phone"], name=str(vars.get("name", "")),
        birth_year=int(vars.get("birth_year") or 0), gender=str(vars.get("gender", "")),
        id_type=str(vars.get("id_type", "")), id_last4=str(vars.get("id_last4", "")),
        pincode=str(vars.get("pincode", "")), language=vars.get("lang") or i18n.DEFAULT_LANGUAGE,
        channel=HW_CHANNEL)
    try:
        with svc.db.write() as session:
            worker = _worker(session, vars)
            found, created = beneficiaries.register(
                session, person, today=svc.today, min_age=rules.min_age,
                cap=rules.max_beneficiaries_per_phone)
            detail = f"linked {vars.get('link')}" + (", OTP consent" if vars.get("consent") else "")
            audit.record(session, worker, channel=svc.channel,
                         action="register" if created else "register_existing",
                         subject=str(found.id), detail=detail)
    except BeneficiaryCapReached as exc:
        return ActionResult("full", {"max_beneficiaries": exc.cap})
    except NotEligible as exc:
        return ActionResult("not_eligible", {"min_age": exc.min_age})
    except RegistryError:
        return ActionResult("invalid")
    _after_commit(svc, [], [found.id])
    outcome = "walk_in" if vars.get("walk_in") == "1" else "ok"
    return ActionResult(outcome, {"beneficiary_id": str(found.id),
                                  "beneficiary_name": found.name})


# --- booking at the worker's center, walk-ins ---------------------------------------------

def hw_list_slots(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Open windows at the worker's center for the person's age group, this week."""
    lang = vars.get("lang")
    with svc.db.read() as session:
        worker = _worker(session, vars)
        person = _person(session, vars)
        days = svc._bookable_dates()
        group = beneficiaries.age_group(person.birth_year, svc.today)
        slots = center_day.open_slots(session, worker.center_id, group, days, svc._now())
        items = [Item(str(s.id), f"{i18n.format_date(s.date, lang)} "
                      f"{i18n.format_window(s.start_time, s.end_time, lang)} ({s.free})",
                      {"date_label": i18n.format_date(s.date, lang),
                       "window_label": i18n.format_window(s.start_time, s.end_time, lang)})
                 for s in slots]
    return ActionResult(items=items)


def hw_book(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Book the chosen window; the confirmation SMS goes to the linked phone."""
    try:
        with svc.db.write() as session:
            worker = _worker(session, vars)
            person = _person(session, vars)
            booked = appointments.book(session, person.id, int(vars.get("slot_id") or 0),
                                       today=svc.today, channel=HW_CHANNEL)
            sms = notifications.record_appointment_sms(  # a signed-in worker: not budgeted
                session, "booked", booked, person.language, None)
            audit.record(session, worker, channel=svc.channel, action="book",
                         subject=booked.reference)
            reference = booked.reference
    except AlreadyBooked as exc:
        return ActionResult("already_booked", {"reference": exc.reference})
    except (SlotFull, RegistryError):
        return ActionResult("full")
    _after_commit(svc, [sms], [person.id])
    return ActionResult("ok", {"reference": reference})


def hw_walk_in(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Book today's first open window at the center and mark the person vaccinated."""
    try:
        with svc.db.write() as session:
            worker = _worker(session, vars)
            person = _person(session, vars)
            booked, sms = center_day.walk_in(session, person.id, center_id=worker.center_id,
                                             now=svc._now(), channel=HW_CHANNEL)
            audit.record(session, worker, channel=svc.channel, action="walk_in",
                         subject=booked.reference)
            reference = booked.reference
    except AlreadyBooked as exc:
        return ActionResult("already_booked", {"reference": exc.reference})
    except SlotFull:
        return ActionResult("full")
    _after_commit(svc, [sms or 0], [person.id])
    return ActionResult("ok", {"reference": reference})


# --- the center's day ------------------------------------------------------------------

def hw_today(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Today's expected people at the worker's center (a list), with the day's counts."""
    limit = svc.settings.health_workers.list_limit
    with svc.db.read() as session:
        worker = _worker(session, vars)
        counts = center_day.day_counts(session, worker.center_id, svc.today)
        people = center_day.day_list(session, worker.center_id, svc.today, limit)
        items = [Item(a.reference, f"{a.reference} {a.beneficiary.name[:14]} "
                      f"{a.slot.start_time:%H:%M}",
                      {"appointment_ref": a.reference, "beneficiary_name": a.beneficiary.name})
                 for a in people]
    return ActionResult(items=items, vars={f"count_{k}": v for k, v in counts.items()})


def hw_mark(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Mark ``appointment_ref`` as ``mark_as`` (vaccinated / no_show); ``not_found`` else."""
    status = AppointmentStatus(vars.get("mark_as", ""))
    with svc.db.write() as session:
        worker = _worker(session, vars)
        try:
            booked, sms = center_day.mark(session, str(vars.get("appointment_ref", "")), status,
                                          center_id=worker.center_id, channel=HW_CHANNEL)
        except NotFound:
            return ActionResult("not_found")
        audit.record(session, worker, channel=svc.channel, action=status.value,
                     subject=booked.reference)
        info = {"beneficiary_name": booked.beneficiary.name, "reference": booked.reference}
        person_id = booked.beneficiary_id
    _after_commit(svc, [sms or 0], [person_id])
    return ActionResult("ok", info)


def _person(session, vars: Vars) -> Beneficiary:
    person = session.get(Beneficiary, int(vars.get("beneficiary_id") or 0))
    if person is None:
        raise NotFound("no such beneficiary")
    return person


def _local_time(svc: RegistryActions, moment) -> str:
    return moment.astimezone(svc.zone).strftime("%H:%M")


HEALTH_WORKER_ACTIONS: dict[str, Callable[[RegistryActions, Vars], ActionResult]] = {
    fn.__name__: fn for fn in (
        recognise_caller, hw_start, hw_set_pin, hw_check_pin, hw_check_phone, hw_send_otp,
        hw_verify_otp, hw_register, hw_list_slots, hw_book, hw_walk_in, hw_today, hw_mark)
}
