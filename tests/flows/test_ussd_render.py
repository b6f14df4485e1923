"""USSD rendering: within the limit on every page, every option reachable by paging."""

from __future__ import annotations

import pytest

from gateway.flows import Option, Screen
from gateway.text.encoding import screen_length
from gateway.ussd_menus.render import _render, render, turn_page


def screen_with(options, lang="en", text="Choose a center:", **extra):
    return Screen("booking.pick_center", "booking.pick_center", text,
                  tuple(Option(str(n), label) for n, label in enumerate(options, 1)),
                  lang=lang, **extra)


def all_pages(screen, messages):
    first = render(screen, 0, messages)
    return [first] + [render(screen, n, messages) for n in range(1, first.page_count)]


CENTER = "PHC Danapur Cantonment 2"
CASES = [
    ("en", [CENTER] * 3, 1),
    ("en", [CENTER] * 12, 3),
    ("hi", [CENTER] * 3, 2),
    ("hi", ["सामुदायिक स्वास्थ्य केंद्र फुलवारी शरीफ"] * 9, 9),
    ("bn", ["সোম 23 নভে"] * 7, 2),
    ("en", ["x" * 170], 1),    # one option longer than a screen: cut, never over
]


@pytest.mark.parametrize("lang, labels, pages", CASES)
def test_pages_fit_and_show_every_option_once(flows, lang, labels, pages):
    screen = screen_with(labels, lang, can_go_back=True, can_go_home=True)
    rendered = all_pages(screen, flows.messages)
    assert len(rendered) == pages
    assert all(page.length <= page.limit and screen_length(page.text) == page.length
               for page in rendered)
    shown = [key for page in rendered for key in page.option_keys_on_page]
    assert shown == [str(n) for n in range(1, len(labels) + 1)]


@pytest.mark.parametrize("lang, more, back", [
    ("en", "98 More", "0 Back"), ("hi", "98 आगे", "0 पीछे"), ("bn", "98 আরও", "0 পিছনে"),
])
def test_navigation_lines_are_translated(flows, lang, more, back):
    rendered = all_pages(screen_with([CENTER] * 12, lang), flows.messages)
    assert more in rendered[0].text and back not in rendered[0].text
    assert back in rendered[1].text


def test_prompt_and_error_only_on_first_page(flows):
    screen = screen_with([CENTER] * 12, error="Invalid choice.")
    first, second = all_pages(screen, flows.messages)[:2]
    assert first.text.startswith("Invalid choice.\nChoose a center:\n1 ")
    assert second.text.startswith(f"{second.option_keys_on_page[0]} {CENTER}")


def test_back_and_menu_lines_shown_when_they_fit(flows):
    text = render(screen_with(["Yes", "No"], can_go_back=True, can_go_home=True), 0,
                  flows.messages).text
    assert text.endswith("1 Yes\n2 No\n0 Back\n00 Menu")
    assert "0 Back" not in render(screen_with(["Yes"]), 0, flows.messages).text


def test_long_variable_values_are_cut_before_the_prompt_text(flows):
    name = "Venkata Lakshmi Narasimha Subrahmanya Sastry Garu"
    variables = {"name": name, "birth_year": "1948", "pincode": "800001"}
    screen = Screen("registration.confirm", "registration.confirm",
                    flows.messages.text("registration.confirm", "hi", variables),
                    (Option("1", "हाँ"), Option("2", "नहीं")), lang="hi", variables=variables)
    page = render(screen, 0, flows.messages)
    assert page.needed > 80 and page.length <= 80
    assert "…" in page.text and "जन्म 1948, पिन 800001?" in page.text
    assert page.option_keys_on_page == ("1", "2")


def test_a_remembered_page_is_the_page_render_would_compute_for_that_screen(flows):
    """Pages are cached; two screens with the same text but other prompt values (what a cut
    re-fills the prompt from) must not share one."""
    text = flows.messages.text("registration.confirm", "hi", {
        "name": "Venkata Lakshmi Narasimha Subrahmanya Sastry Garu", "birth_year": "1948",
        "pincode": "800001"})
    screens = [Screen("registration.confirm", "registration.confirm", text,
                      (Option("1", "हाँ"), Option("2", "नहीं")), lang="hi",
                      variables={"name": name, "birth_year": "1948", "pincode": "800001"})
               for name in ("Venkata Lakshmi Narasimha Subrahmanya Sastry Garu",
                            "Sita Devi Kumari Ramaswamy Venkatachalapathy Iyer")]
    pages = [render(screen, 0, flows.messages) for screen in screens * 2]

    assert pages[:2] == pages[2:] == [_render(screen, 0, flows.messages) for screen in screens]
    assert pages[0].text != pages[1].text


def test_gsm7_screen_is_cut_with_three_dots_and_stays_gsm7(flows):
    screen = screen_with(["ok"], text="A" * 300)
    page = render(screen, 0, flows.messages)
    assert page.limit == 182 and page.length <= 182 and "..." in page.text


def test_curly_quotes_are_normalized_so_the_screen_stays_gsm7(flows):
    page = render(screen_with(["it’s fine"], text="Choose – now"), 0, flows.messages)
    assert page.limit == 182 and "it's fine" in page.text


def test_page_number_is_clamped(flows):
    assert render(screen_with(["a", "b"]), 5, flows.messages).page == 0


@pytest.mark.parametrize("answer, page, count, expected", [
    ("98", 0, 3, 1), ("98", 2, 3, None), ("0", 1, 3, 0), ("0", 0, 3, None),
    (" 98 ", 0, 2, 1), ("1", 0, 3, None), ("00", 1, 3, None),
])
def test_turn_page(answer, page, count, expected):
    assert turn_page(answer, page, count) == expected
