"""Role scoping: a district principal sees only its district in every list and export.

Data in two districts (Patna and Lucknow, among the demo centers of four): a person booked at
a center of each, their confirmation SMS, a health worker at each. Then every list and export
of the console and of the JSON API is fetched as a Patna principal (a signed-in district
user, a district API key, a district viewer key). Each answer must show something of Patna
(so the check cannot pass on an empty page) and nothing of any other district: no center
code or name, no district name, no booking reference, no phone number, no worker.
"""
from __future__ import annotations

import re

import pytest

from tests.security.support import OTHER, OWN, PEOPLE, Seeded


class Caller:
    """One Patna principal: a signed-in console user, or an API key."""

    def __init__(self, client, auth, keys, kind: str):
        self.client, self.kind = client, kind
        self.headers = {}
        if kind == "console":
            auth.login("patna")
        elif kind == "console-viewer":
            auth.login("patna-viewer")
        else:
            self.headers = {"X-API-Key": keys[{"api": "patna", "api-viewer": "patna-viewer"}[kind]]}

    @property
    def console(self) -> bool:
        return self.kind.startswith("console")

    def get(self, path: str):
        return self.client.get(path, headers=self.headers)

    def post(self, path: str, body: dict):
        return self.client.post(path, json=body, headers=self.headers)


CALLERS = ["console", "console-viewer", "api", "api-viewer"]


@pytest.fixture(params=CALLERS)
def caller(request, client, auth, keys, seeded) -> Caller:
    return Caller(client, auth, keys, request.param)


def _words_in(text: str, words: set[str]) -> set[str]:
    return {w for w in words if re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text)}


# Every list and export, console and API: (name, path template, words the page echoes
# from the query itself). ``{own_center}`` is the Patna center where the Patna person is
# booked, ``{day}`` today.
CONSOLE_LISTS = [
    ("dashboard", "/admin/", ()),
    ("centers", "/admin/centers", ()),
    ("centers of another district by filter", f"/admin/centers?district={OTHER}", (OTHER,)),
    ("centers export", "/admin/export/centers.csv", ()),
    ("slots export", "/admin/export/slots.csv", ()),
    ("messages", "/admin/messages", ()),
    ("messages export", "/admin/messages?export=1", ()),
    ("lists (center picker and reach report)", "/admin/lists", ()),
    ("day list", "/admin/lists?center_id={own_center}&date={day}", ()),
    ("day list csv", "/admin/lists?center_id={own_center}&date={day}&format=csv", ()),
    ("not reached (center picker and reach report)", "/admin/not-reached", ()),
    ("not reached", "/admin/not-reached?center_id={own_center}&date={day}", ()),
    ("health workers", "/admin/health-workers", ()),
]
API_LISTS = [
    ("centers", "/api/v1/centers", ()),
    ("centers of another district by filter", f"/api/v1/centers?district={OTHER}", ()),
    ("slots", "/api/v1/centers/{own_center}/slots", ()),
    ("centers export", "/api/v1/export/centers.csv", ()),
    ("slots export", "/api/v1/export/slots.csv", ()),
    ("messages", "/api/v1/messages", ()),
    ("stats", "/api/v1/stats", ()),
    ("day list", "/api/v1/centers/{own_center}/day-list?date={day}", ()),
    ("day list csv", "/api/v1/centers/{own_center}/day-list?date={day}&format=csv", ()),
    ("day list html", "/api/v1/centers/{own_center}/day-list?date={day}&format=html", ()),
    ("reminder reach", f"/api/v1/districts/{OWN}/reminders", ()),
    ("health workers", "/api/v1/health-workers", ()),
]
# Lists that may rightly show nothing of Patna here (counts only, a filter on another
# district, slots that carry ids only): only the "nothing of another district" half applies.
MAY_SHOW_NOTHING_OWN = {"stats", "reminder reach", "centers of another district by filter",
                        "dashboard", "lists (center picker and reach report)", "slots"}


def _path(template: str, seeded: Seeded) -> str:
    return template.format(own_center=seeded.center_id[OWN], day=seeded.day.isoformat(),
                           other_center=seeded.center_id[OTHER],
                           other_worker=seeded.worker_id[OTHER])


def test_a_district_principal_sees_only_its_district_in_every_list(caller, seeded):
    problems = []
    for name, template, echoed in CONSOLE_LISTS if caller.console else API_LISTS:
        path = _path(template, seeded)
        response = caller.get(path)
        text = response.get_data(as_text=True)
        leaked = _words_in(text, seeded.foreign_words - set(echoed))
        if response.status_code != 200:
            problems.append(f"{name} ({path}): answered {response.status_code}")
        elif leaked:
            problems.append(f"{name} ({path}): shows another district: {sorted(leaked)}")
        elif name not in MAY_SHOW_NOTHING_OWN and not _words_in(text, seeded.own_words):
            problems.append(f"{name} ({path}): shows nothing of {OWN}, so proves nothing")
    assert not problems, f"as {caller.kind}:\n" + "\n".join(problems)


CONSOLE_FOREIGN = [
    "/admin/centers/{other_center}",
    "/admin/lists?center_id={other_center}&date={day}",
]
API_FOREIGN = [
    "/api/v1/centers/{other_center}",
    "/api/v1/centers/{other_center}/slots",
    "/api/v1/centers/{other_center}/day-list?date={day}",
    "/api/v1/centers/{other_center}/day-list?date={day}&format=csv",
    f"/api/v1/districts/{OTHER}/reminders",
    "/api/v1/health-workers/{other_worker}/actions",
]


def test_another_districts_records_are_not_found_or_forbidden(caller, seeded):
    problems = []
    for template in CONSOLE_FOREIGN if caller.console else API_FOREIGN:
        path = _path(template, seeded)
        response = caller.get(path)
        if response.status_code not in (403, 404):
            problems.append(f"{path}: answered {response.status_code}")
        elif _words_in(response.get_data(as_text=True), seeded.foreign_words):
            problems.append(f"{path}: the refusal names another district's record")
    assert not problems, f"as {caller.kind}:\n" + "\n".join(problems)


@pytest.mark.parametrize("kind", ["console", "api"])
def test_a_search_for_another_districts_phone_or_reference_finds_nothing(
        client, auth, keys, seeded, kind):
    who = Caller(client, auth, keys, kind)
    base = "/admin/messages?q=" if who.console else "/api/v1/messages?q="
    for query, echoed in ((PEOPLE[OTHER][1].replace("+", "%2B"), PEOPLE[OTHER][1][-10:]),
                          (seeded.reference[OTHER], seeded.reference[OTHER])):
        text = who.get(base + query).get_data(as_text=True)
        assert not _words_in(text, seeded.foreign_words - {echoed}), query
    own = who.get(base + seeded.reference[OWN]).get_data(as_text=True)
    assert seeded.reference[OWN] in own
    # another district's reference answers as one that does not exist (no existence oracle)
    foreign, unknown = who.get(base + seeded.reference[OTHER]), who.get(base + "ZZZZZZ")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.get_data(as_text=True).replace(seeded.reference[OTHER], "ZZZZZZ") == \
        unknown.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["api", "api-viewer"])
def test_phone_history_shows_only_messages_of_the_keys_district(client, auth, keys, seeded,
                                                                kind):
    who = Caller(client, auth, keys, kind)
    other = who.post("/api/v1/phone-history", {"phone": PEOPLE[OTHER][1]})
    assert other.status_code == 200
    assert other.json["messages"] == []
    own = who.post("/api/v1/phone-history", {"phone": PEOPLE[OWN][1]})
    assert seeded.reference[OWN] in own.get_data(as_text=True)


def test_a_district_key_cannot_change_another_districts_records(client, keys, seeded):
    headers = {"X-API-Key": keys["patna"]}
    changes = [
        ("patch", f"/api/v1/slots/{seeded.slot_id[OTHER]}", {"capacity": 99}),
        ("post", f"/api/v1/centers/{seeded.center_id[OTHER]}/slots/bulk",
         {"date_from": "2030-01-01", "date_to": "2030-01-01", "windows": [["09:00", "10:00"]],
          "capacity": 5}),
        ("post", f"/api/v1/health-workers/{seeded.worker_id[OTHER]}/unlock", {}),
        ("post", f"/api/v1/districts/{OTHER}/reminders/resend", {"days": 1}),
    ]
    for method, path, body in changes:
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code in (403, 404), f"{method} {path}: {response.status_code}"


@pytest.mark.parametrize("kind", CALLERS)
def test_lists_of_every_district_are_for_admins_only(client, auth, keys, seeded, kind):
    """The audit log, users, keys, parked upstream events and registration imports span
    every district: a district principal is refused them outright."""
    who = Caller(client, auth, keys, kind)
    paths = ["/admin/audit", "/admin/users"] if who.console else \
        ["/api/v1/audit", "/api/v1/users", "/api/v1/keys", "/api/v1/upstream/events"]
    refused = {path: who.get(path).status_code for path in paths}
    if not who.console:
        refused["POST /api/v1/imports"] = who.post("/api/v1/imports", {}).status_code
    assert set(refused.values()) == {403}, refused


@pytest.mark.parametrize("path, counts_of", [
    ("/api/v1/upstream/backlog", lambda body: body),
    ("/api/v1/stats", lambda body: body["upstream"]),
])
def test_upstream_counts_are_of_the_principals_district(client, keys, seeded, path, counts_of):
    """Each district's person has a registration and a booking event: a Patna key counts
    Patna's two, an admin all four."""
    def total(key: str) -> int:
        body = client.get(path, headers={"X-API-Key": keys[key]}).get_json()
        counts = counts_of(body)
        return sum(counts.get(s, 0) for s in ("pending", "parked", "sent", "not_required"))

    assert (total("admin"), total("patna"), total("lucknow"), total("patna-viewer")) == (
        4, 2, 2, 2)
