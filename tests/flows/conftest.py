"""Fixtures for the pure menu engine: the shipped menus, an in-memory service double and a
`phone` that dials and answers, round-tripping the session state through JSON at every step.

The service double stands in for the domain boundary only (gateway.registry.actions is
tested against a real database elsewhere); the engine itself has no I/O to fake.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gateway import MENU_DIR
from gateway.flows import (
    ActionResult,
    Context,
    Effect,
    FlowSet,
    Item,
    Screen,
    load_flows,
    resume,
    start,
)
from gateway.healthworkers.ussd_actions import HEALTH_WORKER_ACTIONS
from gateway.reminders.ussd_actions import WAITLIST_ACTIONS
from gateway.text.i18n import format_date

TODAY = "2021-11-20"
HEALTH_WORKER_ONLY = set(HEALTH_WORKER_ACTIONS)  # tested on a real DB in tests/healthworkers
WAITLIST = set(WAITLIST_ACTIONS)


class FakeServices:
    """In-memory implementation of every action the shipped menus call."""

    def __init__(self) -> None:
        self.languages: dict[str, str] = {}
        self.people: list[dict[str, Any]] = []
        self.appointments: list[dict[str, Any]] = []
        self.dates = ["2021-11-23", "2021-11-24", "2021-11-25"]
        self.centers = {"17": "PHC Danapur", "18": "CHC Phulwari Sharif"}
        self.far_centers: dict[str, str] = {}  # shown when self.centers is empty
        self.unknown_pincodes = {"800999"}  # six digits, but not in India Post's list
        self.windows = {"301": ("09:00-11:00", 12), "302": ("11:00-13:00", 3)}
        self.cap = 4
        self.forced: dict[str, list[ActionResult]] = {}  # action -> results to return first
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def action_names(self) -> set[str]:
        return {name for name in dir(self) if name.startswith(("list_", "load_", "save_"))} | {
            "check_capacity", "check_pincode", "register_beneficiary", "book_slot",
            "cancel_appointment",
            "recent_booking",
            "recognise_caller"} | HEALTH_WORKER_ONLY | WAITLIST

    def call(self, name: str, vars: dict[str, Any]) -> ActionResult:
        self.calls.append((name, dict(vars)))
        if self.forced.get(name):
            return self.forced[name].pop(0)
        return getattr(self, name)(vars)

    def called(self, name: str) -> list[dict[str, Any]]:
        """The vars of every call of one action."""
        return [vars for called, vars in self.calls if called == name]

    def recognise_caller(self, vars):
        return ActionResult("citizen")  # no health workers in the engine tests

    def load_profile(self, vars):
        lang = self.languages.get(vars["phone"])
        return ActionResult("known", {"lang": lang}) if lang else ActionResult("new")

    def save_language(self, vars):
        self.languages[vars["phone"]] = vars["lang"]
        return ActionResult()

    def _mine(self, phone):
        return [p for p in self.people if p["phone"] == phone]

    def check_capacity(self, vars):
        count = len(self._mine(vars["phone"]))
        info = {"max_beneficiaries": self.cap, "beneficiary_count": count}
        return ActionResult("full" if count >= self.cap else "ok", info)

    def check_pincode(self, vars):
        return ActionResult("unknown" if vars["pincode"] in self.unknown_pincodes else "ok")

    def register_beneficiary(self, vars):
        for person in self._mine(vars["phone"]):
            if (person["name"], person["birth_year"]) == (vars["name"], vars["birth_year"]):
                return ActionResult("duplicate", _person_vars(person))
        fields = ("phone", "name", "birth_year", "gender", "id_type", "id_last4", "pincode", "lang")
        person = {"id": str(len(self.people) + 1), **{key: vars[key] for key in fields}}
        self.people.append(person)
        return ActionResult("ok", _person_vars(person))

    def list_beneficiaries(self, vars):
        return ActionResult(items=[
            Item(p["id"], f"{p['name']} {p['birth_year']}", {"beneficiary_name": p["name"]})
            for p in self._mine(vars["phone"])])

    def list_dates(self, vars):
        labels = {day: format_date(day, vars["lang"]) for day in self.dates}
        return ActionResult(items=[
            Item(day, label, {"date_label": label}) for day, label in labels.items()])

    def list_centers(self, vars):
        return ActionResult("ok", {"search_scope": "pincode"}, [
            Item(cid, name, {"center_name": name, "search_scope": "pincode"})
            for cid, name in self.centers.items()])

    def list_far_centers(self, vars):
        return ActionResult("ok", {"near_km": 50}, [
            Item(cid, f"{name} 240 km", {"center_name": name, "search_scope": "far"})
            for cid, name in self.far_centers.items()])

    def list_windows(self, vars):
        return ActionResult(items=[
            Item(sid, f"{label} ({free})", {"window_label": label})
            for sid, (label, free) in self.windows.items() if free > 0])

    def book_slot(self, vars):
        label, free = self.windows[vars["slot_id"]]
        if free <= 0:
            return ActionResult("full")
        self.windows[vars["slot_id"]] = (label, free - 1)
        reference = f"REF{len(self.appointments) + 1:03d}"
        person = next(p for p in self.people if p["id"] == vars["beneficiary_id"])
        booking = {"id": str(len(self.appointments) + 1), "reference": reference,
                   "beneficiary_id": person["id"], "beneficiary_name": person["name"],
                   "center_name": vars["center_name"], "date_label": vars["date_label"],
                   "window_label": label, "phone": vars["phone"]}
        if vars["reschedule_id"]:
            self.appointments = [a for a in self.appointments if a["id"] != vars["reschedule_id"]]
        self.appointments.append(booking)
        return ActionResult("ok", {k: booking[k] for k in
                                   ("reference", "center_name", "date_label", "window_label")})

    def list_appointments(self, vars):
        return ActionResult(items=[
            Item(a["id"], f"{a['reference']} {a['beneficiary_name'].split()[0]}",
                 {k: v for k, v in a.items() if k not in ("id", "phone")})
            for a in self.appointments if a["phone"] == vars["phone"]])

    def cancel_appointment(self, vars):
        found = [a for a in self.appointments if a["id"] == vars["appointment_id"]]
        if not found:
            return ActionResult("not_found")
        self.appointments.remove(found[0])
        return ActionResult("ok", {"reference": found[0]["reference"]})

    # the waitlist (tested on a real DB in tests/reminders): no offer, joining works
    def pending_offer(self, vars):
        return ActionResult("none")

    # a booking of the last minutes (tested on a real DB in tests/ussd_menus): none here
    def recent_booking(self, vars):
        return ActionResult("none")

    def join_waitlist(self, vars):
        return ActionResult("ok")

    def claim_offer(self, vars):
        return ActionResult("gone")

    def decline_offer(self, vars):
        return ActionResult("ok")


def _person_vars(person: dict[str, Any]) -> dict[str, Any]:
    return {"beneficiary_id": person["id"], "beneficiary_name": person["name"]}


class Phone:
    """Dials the menus and answers screens; the state goes through JSON between every step."""

    def __init__(self, flows: FlowSet, services: FakeServices, number: str = "+919800000001",
                 lang: str | None = None, settings: dict[str, Any] | None = None) -> None:
        self.flows, self.services, self.number = flows, services, number
        self.lang, self.settings = lang, settings or {}
        self.state: dict[str, Any] = {}
        self.screen: Screen | None = None
        self.effects: list[Effect] = []

    def dial(self) -> Screen:
        """Start a new session."""
        ctx = Context(self.number, self.lang, TODAY, self.services, self.settings)
        state, self.screen = start(self.flows, ctx)
        self.state = json.loads(json.dumps(state))
        self.effects = []
        return self.screen

    def press(self, *answers: str) -> Screen:
        """Answer the current screen, one answer after the other; effects accumulate."""
        for answer in answers:
            state, self.screen, effects = resume(self.flows, self.state, answer, self.services)
            self.state = json.loads(json.dumps(state))
            self.effects += effects
        assert self.screen is not None
        return self.screen

    def option(self, label_part: str) -> str:
        """The key of the option whose label contains `label_part`."""
        assert self.screen is not None
        return next(o.key for o in self.screen.options if label_part in o.label)


@pytest.fixture(scope="session")
def flows() -> FlowSet:
    return load_flows(MENU_DIR)


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def phone(flows, services) -> Phone:
    return Phone(flows, services)


@pytest.fixture
def make_phone(flows, services):
    """Build a Phone with another number, language or settings."""

    def make(**kwargs: Any) -> Phone:
        return Phone(flows, services, **kwargs)

    return make


@pytest.fixture
def menu_copy(tmp_path) -> Path:
    """A writable copy of the shipped menus."""
    target = tmp_path / "menus"
    shutil.copytree(MENU_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target
