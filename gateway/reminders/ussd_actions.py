"""The waitlist's menu actions (booking.yaml ``no_slots``/``offer``, main.yaml ``check_offer``).

Added to the engine's ACTIONS; each takes the RegistryActions service and the session vars.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.flows import ActionResult
from gateway.registry import notifications
from gateway.registry.errors import AlreadyBooked, NotFound
from gateway.reminders import waitlist
from gateway.storage.models import utcnow
from gateway.text import i18n

if TYPE_CHECKING:
    from gateway.registry.actions import RegistryActions

Vars = dict[str, Any]
log = logging.getLogger("vaxgate.waitlist")


def join_waitlist(svc: RegistryActions, vars: Vars) -> ActionResult:
    """"Notify me when a slot opens": queue the chosen person (once)."""
    try:
        with svc.db.write() as session:
            lang = vars.get("lang") or i18n.DEFAULT_LANGUAGE
            _, created = waitlist.join(session, int(vars.get("beneficiary_id") or 0),
                                       vars["phone"], svc.today, lang)
    except AlreadyBooked as exc:
        return ActionResult("has_booking", {"reference": exc.reference})
    return ActionResult("ok" if created else "already")


def pending_offer(svc: RegistryActions, vars: Vars) -> ActionResult:
    """A place held for someone on this phone opens the session with the offer."""
    with svc.db.read() as session:
        offers = waitlist.live_offers(session, vars["phone"], utcnow())
    if not offers:
        return ActionResult("none")
    return ActionResult("offer", waitlist.format_offer(offers[0], vars.get("lang")))


def claim_offer(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Book the held place; ``gone`` if the hold ran out or was already claimed."""
    lang = vars.get("lang") or i18n.DEFAULT_LANGUAGE
    with svc.db.write() as session:
        booked = waitlist.claim(session, int(vars.get("offer_id") or 0), vars["phone"],
                                utcnow(), svc.today, svc.channel)
        if booked is None:
            return ActionResult("gone")
        slot = booked.slot
        info = {"reference": booked.reference, "appointment_id": str(booked.id),
                "beneficiary_name": booked.beneficiary.name, "center_name": slot.center.name,
                "date_label": i18n.format_date(slot.date, lang),
                "window_label": i18n.format_window(slot.start_time, slot.end_time, lang)}
        sms = [notifications.record_appointment_sms(session, "booked", booked, lang,
                                                    svc.budget)]
    svc._send(sms)
    return ActionResult("ok", info)


def decline_offer(svc: RegistryActions, vars: Vars) -> ActionResult:
    """Not wanted: the place goes to the next person in line at once."""
    with svc.db.write() as session:
        declined = waitlist.decline(session, int(vars.get("offer_id") or 0), vars["phone"],
                                    utcnow())
    if declined:
        offer_freed_places(svc)
    return ActionResult("ok")


def offer_freed_places(svc: RegistryActions, center_id: int | None = None) -> None:
    """After a cancellation: offer free places to the waitlist now, not at the next cron
    (to the people waiting near ``center_id`` when given)."""
    try:
        svc._send(waitlist.run(svc.db, svc.settings, near_center=center_id))
    except NotFound:
        return
    except Exception as exc:  # noqa: BLE001 - the waitlist cron job offers it shortly
        log.warning("waitlist offer deferred to the cron job: %s", exc)


WAITLIST_ACTIONS: dict[str, Callable[[RegistryActions, Vars], ActionResult]] = {
    fn.__name__: fn for fn in (join_waitlist, pending_offer, claim_offer, decline_offer)
}
