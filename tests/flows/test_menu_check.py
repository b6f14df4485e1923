"""`check_menus`: the shipped menus pass; broken copies fail with the path of the problem."""

from __future__ import annotations

import pytest

from gateway.flows import MenuError, load_flows
from gateway.healthworkers.ussd_actions import HEALTH_WORKER_ACTIONS
from gateway.reminders.ussd_actions import WAITLIST_ACTIONS
from gateway.ussd_menus.check import check_menus, screen_report

ACTIONS = {
    "load_profile", "save_language", "check_capacity", "check_pincode", "register_beneficiary",
    "list_beneficiaries", "list_dates", "list_centers", "list_far_centers", "list_windows",
    "book_slot",
    "list_appointments", "recent_booking", "cancel_appointment",
} | set(HEALTH_WORKER_ACTIONS) | set(WAITLIST_ACTIONS)
LONG_HINDI = "कृपया नीचे दी गई सूची में से अपनी सुविधा के अनुसार टीकाकरण की तारीख ध्यान से चुनें:"


def test_shipped_menus_pass(flows):
    from gateway import MENU_DIR

    assert check_menus(MENU_DIR, ACTIONS) == []


def test_shipped_menus_use_only_the_documented_actions(services):
    from gateway import MENU_DIR

    assert check_menus(MENU_DIR, services.action_names()) == []
    assert ACTIONS <= services.action_names()


def test_report_covers_every_screen_in_every_language_within_limits(flows):
    from gateway import MENU_DIR

    rows = screen_report(MENU_DIR)
    assert {(row.path, row.lang) for row in rows} >= {
        ("booking.yaml: screens.pick_center", lang) for lang in ("en", "hi", "bn")}
    assert all(row.ok for row in rows)
    assert any(row.error_key == "error.not_eligible" for row in rows)


def replace(menu_dir, file, old, new):
    path = menu_dir / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(menu_dir, file, extra):
    path = menu_dir / file
    path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")


BROKEN = [
    ("missing target",
     lambda d: replace(d, "registration.yaml", "next: birth_year", "next: birth_yr"),
     "registration.yaml: screens.name.next: 'birth_yr' does not exist"),
    ("missing action route target",
     lambda d: replace(d, "booking.yaml", "full: window_taken", "full: window_gone"),
     "booking.yaml: screens.book.next.full: 'window_gone' does not exist"),
    ("missing cross-journey target",
     lambda d: replace(d, "main.yaml", "next: booking.pick_person", "next: booking.pick_persn"),
     "main.yaml: screens.menu.options[2].next: 'booking.pick_persn' does not exist"),
    ("unknown type",
     lambda d: replace(d, "booking.yaml", "type: confirm", "type: confirmation"),
     "booking.yaml: screens.confirm.type: unknown type 'confirmation'"),
    ("unknown key",
     lambda d: replace(d, "registration.yaml", "save: pincode", "save: pincode\n    sav: x"),
     "registration.yaml: screens.pincode: unknown key 'sav'"),
    ("missing key",
     lambda d: replace(d, "booking.yaml", "    empty: nobody_registered\n", ""),
     "booking.yaml: screens.pick_person: missing key 'empty'"),
    ("missing translation",
     lambda d: replace(d, "main.yaml", '      bn: "ভাষা বেছে নিন / Language:"\n', ""),
     "main.yaml: screens.pick_language.prompt: missing translation 'bn'"),
    ("missing message translation",
     lambda d: replace(d, "messages.yaml", ', bn: "আরও"}', "}"),
     "messages.yaml: nav.more: missing translation 'bn'"),
    ("unreachable screen",
     lambda d: append(d, "appointments.yaml",
                      "\n  orphan:\n    type: end\n    prompt: {en: a, hi: b, bn: c}\n"),
     "appointments.yaml: screens.orphan: unreachable"),
    ("unknown validator",
     lambda d: replace(d, "registration.yaml", "validate: pincode", "validate: zipcode"),
     "registration.yaml: screens.pincode.validate: unknown validator 'zipcode' "
     "(known: birth_year, digits, name, pincode, reference)"),
    ("bad validator arguments",
     lambda d: replace(d, "registration.yaml", "{digits: {length: 4}}", "{digits: {size: 4}}"),
     "registration.yaml: screens.id_last4.validate: needs either 'length' or both 'min' and 'max'"),
    ("action that is not a name",
     lambda d: replace(d, "booking.yaml", "call: book_slot", "call: [book_slot]"),
     "booking.yaml: screens.book.call: must be the name of an action"),
    ("unknown action",
     lambda d: replace(d, "booking.yaml", "call: book_slot", "call: book_slots"),
     "booking.yaml: screens.book.call: unknown action 'book_slots'"),
    ("required message missing",
     lambda d: replace(d, "messages.yaml", "  try_again:", "  try_later:"),
     "messages.yaml: session.try_again: missing"),
    ("journey home that does not exist",
     lambda d: replace(d, "health_worker.yaml", "home: menu", "home: menuu"),
     "health_worker.yaml: home: 'menuu' is not a screen of health_worker.yaml"),
    ("journey home in another journey",
     lambda d: replace(d, "health_worker.yaml", "home: menu", "home: main.menu"),
     "health_worker.yaml: home: 'main.menu' is not a screen of health_worker.yaml"),
    ("journey home that is not a menu",
     lambda d: replace(d, "health_worker.yaml", "home: menu", "home: name"),
     "health_worker.yaml: home: must be a menu screen"),
    ("YAML syntax",
     lambda d: replace(d, "booking.yaml", "  pick_date:\n", "  pick_date:\n   - [\n"),
     "booking.yaml: invalid YAML"),
    ("over-long Hindi prompt",
     lambda d: replace(d, "booking.yaml", 'hi: "तारीख चुनें:"', f'hi: "{LONG_HINDI}"'),
     "booking.yaml: screens.pick_date [hi] page 1: "),
    ("confirm answers split over two pages",
     lambda d: replace(d, "booking.yaml", 'hi: "{center_name}\\n{date_label}',
                       'hi: "कृपया ध्यान से देखें, यह जानकारी सही है या नहीं: '
                       '{center_name}\\n{date_label}'),
     "booking.yaml: screens.confirm [hi] page 1: "),
]


@pytest.mark.parametrize("problem, breakage, expected", BROKEN, ids=[row[0] for row in BROKEN])
def test_broken_menus_are_reported_with_their_path(menu_copy, problem, breakage, expected):
    breakage(menu_copy)
    errors = check_menus(menu_copy, ACTIONS)
    assert any(error.startswith(expected) for error in errors), errors


def test_load_flows_raises_menu_error_listing_every_problem(menu_copy):
    replace(menu_copy, "registration.yaml", "next: birth_year", "next: birth_yr")
    replace(menu_copy, "booking.yaml", "type: end", "type: ending")
    with pytest.raises(MenuError) as raised:
        load_flows(menu_copy)
    assert "registration.yaml: screens.name.next: 'birth_yr' does not exist" in raised.value.errors
    assert "booking.yaml: screens.booked.type: unknown type 'ending'" in raised.value.errors


def test_missing_main_yaml_is_reported(menu_copy):
    (menu_copy / "main.yaml").unlink()
    assert check_menus(menu_copy, ACTIONS) == ["main.yaml: missing (the session entry point)"]


def test_unquoted_yes_and_no_keys_are_read_as_names(menu_copy):
    replace(menu_copy, "booking.yaml", '"yes": book', "yes: book")
    replace(menu_copy, "booking.yaml", '"no": pick_date', "no: pick_date")
    assert check_menus(menu_copy, ACTIONS) == []


def test_structural_and_length_errors_are_reported_together(menu_copy):
    replace(menu_copy, "registration.yaml", "next: birth_year", "next: birth_yr")
    replace(menu_copy, "booking.yaml", 'hi: "तारीख चुनें:"', f'hi: "{LONG_HINDI}"')
    errors = check_menus(menu_copy, ACTIONS)
    assert "registration.yaml: screens.name.next: 'birth_yr' does not exist" in errors
    assert any(error.startswith("booking.yaml: screens.pick_date [hi] page 1: ")
               for error in errors)


def test_the_consoles_publish_check_reports_both_kinds_too():
    """The console checks a draft (gateway/admin/publishing.py) as `menus check` does."""
    from gateway import MENU_DIR
    from gateway.admin.publishing import builtin_files, check_files

    files = builtin_files(MENU_DIR)
    files["registration.yaml"] = files["registration.yaml"].replace(
        "next: birth_year", "next: birth_yr", 1)
    files["booking.yaml"] = files["booking.yaml"].replace('hi: "तारीख चुनें:"',
                                                          f'hi: "{LONG_HINDI}"', 1)
    errors = check_files(files, ACTIONS)
    assert "registration.yaml: screens.name.next: 'birth_yr' does not exist" in errors
    assert any(error.startswith("booking.yaml: screens.pick_date [hi] page 1: ")
               for error in errors)
