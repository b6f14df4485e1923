"""The service object the menu engine calls: named actions over the registry.

Each action takes the session vars and returns an ``ActionResult`` (outcome to route on,
vars to merge, list items). The YAML menus name these actions; ``vaxgate menus check``
verifies every name exists in ``ACTIONS``. Domain errors become outcomes, never exceptions.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from gateway.config import Settings
from gateway.flows import ActionResult, Item, ServiceUnavailable
from gateway.geo import places
from gateway.geo.places import Place
from gateway.registry import appointments, beneficiaries, centers, hooks, notifications
from gateway.registry.availability import AvailabilityCache
from gateway.registry.errors import (
    AlreadyBooked,
    BeneficiaryCapReached,
    InvalidField,
    NotEligible,
    NotFound,
    RegistryError,
    SlotFull,
)
from gateway.sms.budget import Budget
from gateway.storage import Beneficiary, Center, Database, Slot
from gateway.text import i18n
from gateway.text.i18n import DEFAULT_LANGUAGE

Vars = dict[str, Any]
LIST_LIMIT = 20  # a USSD list longer than this is not usable anyway
RECENT_BOOKING_VARS = ("reference", "beneficiary_name", "center_name", "date_label",
                       "window_label")


class RegistryActions:
    """Implements the engine's ``Services`` protocol on the SQL registry."""

    def __init__(self, db: Database, settings: Settings, channel: str = "ussd",
                 now: Callable[[], dt.datetime] | None = None,
                 enqueue_sms: Callable[[list[int]], object] | None = None,
                 availability: AvailabilityCache | None = None,
                 redis_clients: tuple[Any, Any] | None = None):
        """``redis_clients``: the process's (session, queue) Redis clients, for actions that
        need Redis themselves (health-worker PIN and OTP); None connects by the settings'
        URLs on first use (scripts and tests)."""
        self.db = db
        self._redis_clients = redis_clients
        self.availability = availability  # None: every search reads the database
        self.settings = settings
        self.budget = Budget.of(settings.sms.budget)  # of a citizen's phone: every SMS of theirs
        self.channel = channel
        self.zone = ZoneInfo(settings.timezone)
        self._now = now or (lambda: dt.datetime.now(self.zone))
        # Enqueues send jobs for ledger rows after commit; None records without sending.
        self.enqueue_sms = enqueue_sms

    def redis(self, role: str = "session") -> Any:
        """The Redis client for ``role`` (session, queue)."""
        if self._redis_clients is None:
            from gateway.infra.redis_clients import connect_redis_pair

            self._redis_clients = connect_redis_pair(self.settings)
        return self._redis_clients[0 if role == "session" else 1]

    def action_names(self) -> set[str]:
        return set(ACTIONS)

    def call(self, name: str, vars: Vars) -> ActionResult:
        """Run the named action; registry refusals map to outcomes."""
        try:
            return ACTIONS[name](self, vars)
        except NotFound:
            return ActionResult("not_found")
        except (OperationalError, InterfaceError, TimeoutError) as exc:
            raise ServiceUnavailable(f"{name}: {type(exc).__name__}") from exc

    @property
    def today(self) -> dt.date:
        return self._now().date()

    # --- profile and registration -------------------------------------------------------

    def load_profile(self, vars: Vars) -> ActionResult:
        lang = beneficiaries.get_language(self.db, vars["phone"])
        return ActionResult("known", {"lang": lang}) if lang else ActionResult("new")

    def save_language(self, vars: Vars) -> ActionResult:
        with self.db.write() as session:
            beneficiaries.set_language(session, vars["phone"], vars.get("lang") or DEFAULT_LANGUAGE)
        return ActionResult()

    def check_capacity(self, vars: Vars) -> ActionResult:
        cap = self.settings.registration.max_beneficiaries_per_phone
        count = beneficiaries.count_for_phone(self.db, vars["phone"])
        info = {"max_beneficiaries": cap, "beneficiary_count": count}
        return ActionResult("full" if count >= cap else "ok", info)

    def check_pincode(self, vars: Vars) -> ActionResult:
        """``ok`` for a PIN code in India Post's directory, else ``unknown``."""
        with self.db.read() as session:
            known = places.is_pincode(session, str(vars.get("pincode", "")))
        return ActionResult("ok" if known else "unknown")

    def register_beneficiary(self, vars: Vars) -> ActionResult:
        person = beneficiaries.NewBeneficiary(
            phone=vars["phone"], name=str(vars.get("name", "")),
            birth_year=int(vars.get("birth_year") or 0), gender=str(vars.get("gender", "")),
            id_type=str(vars.get("id_type", "")), id_last4=str(vars.get("id_last4", "")),
            pincode=str(vars.get("pincode", "")), language=vars.get("lang") or DEFAULT_LANGUAGE,
            channel=self.channel, name_recording_url=vars.get("name_recording_url") or None,
            name_said_only=bool(vars.get("name_said_only")))
        rules = self.settings.registration
        try:
            with self.db.write() as session:
                found, created = beneficiaries.register(
                    session, person, today=self.today, min_age=rules.min_age,
                    cap=rules.max_beneficiaries_per_phone)
        except BeneficiaryCapReached as exc:
            return ActionResult("full", {"max_beneficiaries": exc.cap})
        except NotEligible as exc:
            return ActionResult("not_eligible", {"min_age": exc.min_age})
        except InvalidField as exc:
            return ActionResult("unknown_pincode" if exc.field == "pincode" else "invalid")
        except RegistryError:
            return ActionResult("invalid")
        info = {"beneficiary_id": str(found.id), **_person_vars(found)}
        return ActionResult("ok" if created else "duplicate", info)

    def list_beneficiaries(self, vars: Vars) -> ActionResult:
        with self.db.read() as session:
            people = beneficiaries.list_for_phone(session, vars["phone"])
        lang = vars.get("lang")
        return ActionResult(items=[
            Item(str(p.id), i18n.person_label(p.name, p.birth_year, lang, _spoken_only(p)),
                 _person_vars(p)) for p in people])

    # --- search and booking -------------------------------------------------------------

    def list_dates(self, vars: Vars) -> ActionResult:
        lang = vars.get("lang")
        found = self._search(vars)
        dates = sorted({slot.date for slot in found.slots})
        return ActionResult(items=[
            Item(d.isoformat(), i18n.format_date(d, lang),
                 {"date_label": i18n.format_date(d, lang)}) for d in dates[:LIST_LIMIT]])

    def list_centers(self, vars: Vars) -> ActionResult:
        """Centers at the home PIN code, in its district, then within ``near_km``; none
        when only centers farther away have places (``list_far_centers`` shows those)."""
        found = self._search(vars, date=_parse_date(vars.get("date")))
        ranked = [] if found.far else found.ranked
        return ActionResult("ok" if ranked else "none", items=[
            _center_item(r, vars.get("lang"), self.channel) for r in ranked[:LIST_LIMIT]])

    def list_far_centers(self, vars: Vars) -> ActionResult:
        """The nearest centers anywhere, when none is near home (else none)."""
        found = self._search(vars, date=_parse_date(vars.get("date")))
        ranked = found.ranked if found.far else []
        info = {"near_km": round(self.settings.booking.near_km)}
        return ActionResult("ok" if ranked else "none", info, items=[
            _center_item(r, vars.get("lang"), self.channel) for r in ranked])

    def list_windows(self, vars: Vars) -> ActionResult:
        found = self._search(vars, date=_parse_date(vars.get("date")))
        center_id = int(vars.get("center_id") or 0)
        lang = vars.get("lang")
        items = []
        for slot in found.slots:
            if slot.center_id == center_id:
                window = i18n.format_window(slot.start_time, slot.end_time, lang)
                items.append(Item(str(slot.slot_id), f"{window} ({slot.free})",
                                  {"window_label": window}))
        return ActionResult(items=items[:LIST_LIMIT])

    def book_slot(self, vars: Vars) -> ActionResult:
        beneficiary_id = int(vars.get("beneficiary_id") or 0)
        slot_id = int(vars.get("slot_id") or 0)
        reschedule_id = int(vars.get("reschedule_id") or 0)
        try:
            with self.db.write() as session:
                if reschedule_id:
                    booked = appointments.reschedule(session, reschedule_id, slot_id,
                                                     today=self.today, phone=vars["phone"],
                                                     channel=self.channel)
                else:
                    booked = appointments.book(session, beneficiary_id, slot_id,
                                               today=self.today, channel=self.channel,
                                               phone=vars["phone"], take_place_later=True)
                info = _appointment_vars(booked, vars.get("lang"))
                area = centers.area_of(booked.slot.center)
                event = "rescheduled" if reschedule_id else "booked"
                sms = [notifications.record_appointment_sms(
                    session, event, booked, vars.get("lang") or DEFAULT_LANGUAGE, self.budget)]
                if not reschedule_id:  # last: the slot's row stays locked until COMMIT
                    appointments.take_place(session, booked)
                filled = booked.slot.booked >= booked.slot.capacity
        except SlotFull:
            self._slot_changed(slot_id)  # the list that offered it was stale
            return ActionResult("full")
        except AlreadyBooked as exc:
            return ActionResult("already_booked", {"reference": exc.reference})
        except NotFound:
            return ActionResult("not_found")
        except RegistryError:
            return ActionResult("full")
        self._send(sms)
        if self.availability and (filled or reschedule_id):
            # A cached list must stop offering a slot once it is full; a count that is one
            # or two too high for a few seconds costs nothing (the booking itself is exact)
            # and re-reading the area after every booking would make a storm all misses.
            self.availability.invalidate(area)
        return ActionResult("ok", info)

    def list_appointments(self, vars: Vars) -> ActionResult:
        lang = vars.get("lang")
        with self.db.read() as session:
            found = appointments.list_for_phone(session, vars["phone"])
            items = [Item(str(a.id), _appointment_label(a, lang), _appointment_vars(a, lang))
                     for a in found[:LIST_LIMIT]]
        return ActionResult(items=items)

    def recent_booking(self, vars: Vars) -> ActionResult:
        """The phone's booking made within the resume window, shown first on redial: a step
        that booked and then failed (Redis stalled after the commit) said "try again"."""
        since = self._now().astimezone(dt.UTC) - dt.timedelta(
            seconds=self.settings.ussd.resume_window_seconds)
        with self.db.read() as session:
            found = appointments.booked_since(session, vars["phone"], since)
            shown = _appointment_vars(found, vars.get("lang")) if found else {}
        info = {k: v for k, v in shown.items() if k in RECENT_BOOKING_VARS}  # display only
        return ActionResult("found", info) if info else ActionResult("none")

    def cancel_appointment(self, vars: Vars) -> ActionResult:
        with self.db.write() as session:
            cancelled = appointments.cancel(session, int(vars.get("appointment_id") or 0),
                                            phone=vars["phone"], channel=self.channel)
            sms = [notifications.record_appointment_sms(
                session, "cancelled", cancelled, vars.get("lang") or DEFAULT_LANGUAGE,
                self.budget)]
            reference = cancelled.reference
            center = cancelled.slot.center
            area, center_id = centers.area_of(center), center.id
        self._send(sms)
        if self.availability:
            self.availability.invalidate(area)
        hooks.place_freed(self, center_id)  # the waitlist offers the freed place now
        return ActionResult("ok", {"reference": reference})

    # --- helpers ------------------------------------------------------------------------

    def _search(self, vars: Vars, date: dt.date | None = None) -> _Search:
        """Free slots for the chosen person's age group near their home PIN code: of the
        centers ``centers.rank`` lists, or with none of those, of the nearest anywhere."""
        rules = self.settings.booking
        with self.db.read() as session:
            pincode, birth_year = _person_of(session, vars)
            group = beneficiaries.age_group(birth_year, self.today)
            days = [date] if date else self._bookable_dates()
            home = places.place_near(session, pincode)
            slots = self._still_open(self._near(session, home, pincode, group, days))
            ranked = centers.rank(slots, home, pincode, rules.near_km)
            if ranked or home is None:
                return _Search(ranked, _of_centers(slots, ranked), far=False)
            if self.availability:
                slots = self.availability.nearest(session, home, group, days, rules.far_centers)
            else:
                slots = centers.nearest_free_slots(session, home, group, days, rules.far_centers)
        slots = self._still_open(slots)
        ranked = centers.rank_far(slots, home, rules.far_centers)
        return _Search(ranked, _of_centers(slots, ranked), far=True)

    def _near(self, session, home: Place | None, pincode: str, group: str,
              days: list[dt.date]) -> list[centers.FreeSlot]:
        if home is None:  # a PIN code the directory cannot place: its own centers only
            return centers.free_slots_at(session, pincode, group, days)
        near_km = self.settings.booking.near_km
        if self.availability:
            return self.availability.near(session, home, group, days, near_km)
        return centers.free_slots_near(session, home, group, days, near_km)

    def _still_open(self, slots: list[centers.FreeSlot]) -> list[centers.FreeSlot]:
        now = self._now()
        return [s for s in slots if (s.date, s.end_time) > (now.date(), now.time())]

    def _bookable_dates(self) -> list[dt.date]:
        days = self.settings.booking.days_ahead
        return [self.today + dt.timedelta(days=d) for d in range(days)]

    def _slot_changed(self, slot_id: int) -> None:
        """Drop cached availability for the slot's district and cell."""
        if not self.availability:
            return
        with self.db.read() as session:
            center = session.scalar(select(Center).join(Slot).where(Slot.id == slot_id))
            area = centers.area_of(center) if center else None
        if area:
            self.availability.invalidate(area)

    def _send(self, message_ids: list[int]) -> None:
        if self.enqueue_sms:
            notifications.enqueue_after_commit(self.enqueue_sms, message_ids)


class _Search:
    """The centers a caller is offered (``far``: none is near home) and their free slots."""

    def __init__(self, ranked: list[centers.Ranked], slots: list[centers.FreeSlot], far: bool):
        self.ranked = ranked
        self.slots = slots
        self.far = far


def _of_centers(slots: list[centers.FreeSlot],
                ranked: list[centers.Ranked]) -> list[centers.FreeSlot]:
    """The slots of the ranked centers only (a cell also holds centers beyond ``near_km``)."""
    wanted = {r.slot.center_id for r in ranked}
    return [s for s in slots if s.center_id in wanted]


def _center_item(ranked: centers.Ranked, lang: str | None, channel: str) -> Item:
    """A list line such as "Sub-divisional Hospital Danapur 9 km" (on a screen) or "... 9
    kilometres" (read out on a call)."""
    name = ranked.slot.center_name
    label = name if ranked.km is None else \
        f"{name} {i18n.format_distance(ranked.km, lang, channel == 'ivr')}"
    return Item(str(ranked.slot.center_id), label,
                {"center_name": name, "search_scope": ranked.scope})


def _parse_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise NotFound(f"no such date {value!r}") from None


def _person_vars(person: Beneficiary) -> Vars:
    """What the list steps need about the chosen person, kept in the session vars so the
    three search steps do not read the beneficiary again (``_person_of``)."""
    return {"beneficiary_name": person.name,
            "beneficiary_profile": [str(person.id), person.pincode, person.birth_year],
            # a name only spoken: the voice channel plays it back (gateway/ivr/voice.py)
            "name_recording_url": person.name_recording_url if _spoken_only(person) else ""}


def _spoken_only(person: Beneficiary) -> bool:
    """True for someone registered by voice whose name the center has not confirmed yet."""
    return bool(person.name_recording_url) and not person.name_confirmed


def _person_of(session, vars: Vars) -> tuple[str, int]:
    """(pincode, birth year) of ``vars['beneficiary_id']``: from the vars when they describe
    that same person, else from the database."""
    beneficiary_id = str(vars.get("beneficiary_id") or "")
    profile = vars.get("beneficiary_profile")
    if isinstance(profile, list) and len(profile) == 3 and profile[0] == beneficiary_id:
        return str(profile[1]), int(profile[2])
    person = session.get(Beneficiary, int(beneficiary_id or 0))
    if person is None:
        raise NotFound("no such beneficiary")
    return person.pincode, person.birth_year


def _appointment_vars(appointment, lang: str | None) -> Vars:
    slot: Slot = appointment.slot
    return {"reference": appointment.reference, "appointment_id": str(appointment.id),
            "beneficiary_id": str(appointment.beneficiary_id),
            **_person_vars(appointment.beneficiary),
            "center_name": slot.center.name, "date_label": i18n.format_date(slot.date, lang),
            "window_label": i18n.format_window(slot.start_time, slot.end_time, lang)}


def _appointment_label(appointment, lang: str | None) -> str:
    person = appointment.beneficiary
    first_name = person.name if _spoken_only(person) else person.name.split()[0]
    return f"{appointment.reference} {first_name} {i18n.format_date(appointment.slot.date, lang)}"


ACTIONS: dict[str, Callable[[RegistryActions, Vars], ActionResult]] = {
    name: getattr(RegistryActions, name) for name in (
        "load_profile", "save_language", "check_capacity", "check_pincode",
        "register_beneficiary", "list_beneficiaries", "list_dates", "list_centers",
        "list_far_centers", "list_windows", "book_slot",
        "list_appointments", "recent_booking", "cancel_appointment")
}


def register_actions(actions: dict[str, Callable[[RegistryActions, Vars], ActionResult]]) -> None:
    """Add a feature's actions (health_worker.yaml, the waitlist screens) to ``ACTIONS``."""
    clash = {name for name in actions if ACTIONS.get(name, actions[name]) is not actions[name]}
    if clash:
        raise ValueError(f"actions registered twice: {sorted(clash)}")
    ACTIONS.update(actions)
