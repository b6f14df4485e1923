"""Render a channel-neutral Screen as USSD text that fits one screen, with automatic paging.

    page_view = render(screen, page, flows.messages)
    reply = ("END " if screen.final else "CON ") + page_view.text

A page holds: the error line and the prompt (first page only), as many numbered options as
fit, then navigation: "98 More" (more options follow), "0 Back" (previous page on page > 0,
previous screen on the first page), "00 Menu". "98 More" and the previous-page "0 Back" are
always shown when they apply; the other two only when they fit, since "0" and "00" work anyway.

Limits: 182 characters when the whole screen is GSM-7, else 80 (see gateway.text.encoding). If the
first page cannot fit even with one option (long runtime values), variable values are cut
first, then the prompt, then option labels, with an ellipsis ("..." in GSM-7 text so the
screen stays GSM-7, "…" otherwise). `needed` reports the length before cutting.

Between requests the adapter keeps the page number; `turn_page` tells whether an answer is
a page turn (handled by re-rendering `current_screen(flows, state)`) or goes to the engine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from gateway.flows import Catalog, Screen
from gateway.flows.catalog import fill, placeholders
from gateway.text.encoding import USSD_GSM7_LIMIT, normalize_latin, screen_length, screen_limit

MORE = "98"
BACK = "0"
HOME = "00"
MIN_VALUE_CHARS = 4  # a cut variable value keeps at least this many characters
_MAX_CUTS = 50
NEVER_CUT = frozenset({"reference", "appointment_ref"})  # a booking code is useless in part
CUT_FIRST = frozenset({"beneficiary_name", "name", "hw_name"})  # names give way first


@dataclass(frozen=True)
class RenderedPage:
    """One USSD page: its text, which options it shows, and how long it is."""

    text: str
    page: int
    page_count: int
    option_keys_on_page: tuple[str, ...]
    length: int  # screen_length(text), always <= limit
    limit: int
    needed: int  # length the page would have without cutting; > limit means "too long"


@dataclass
class _Page:
    """Lines of one page, kept apart so they can be cut in order of importance."""

    error: str | None
    prompt: str | None
    options: list[str]
    nav: list[str]

    def text(self) -> str:
        lines = [self.error, self.prompt, *self.options, *self.nav]
        return "\n".join(line for line in lines if line)


def turn_page(user_input: str, page: int, page_count: int) -> int | None:
    """The page to show if the answer is a page turn ("98" next, "0" previous), else None."""
    answer = (user_input or "").strip()
    if answer == MORE and page + 1 < page_count:
        return page + 1
    if answer == BACK and page > 0:
        return page - 1
    return None


def render(screen: Screen, page: int, messages: Catalog) -> RenderedPage:
    """Render page `page` (0-based, clamped) of a screen within the USSD limit.

    Most screens are the same for every caller (a prompt, a fixed menu), and fitting one
    is a large share of a USSD step's CPU, so pages are remembered by everything that
    shapes them (for a screen cut to fit, also the prompt's variable values)."""
    key = _cache_key(screen, page, messages)
    found = _RENDERED.get(key)
    if found is None:
        if len(_RENDERED) >= RENDER_CACHE_SIZE:
            _RENDERED.clear()  # dynamic lists make new keys; start again rather than grow
        found = _RENDERED[key] = _render(screen, page, messages)
    return found


RENDER_CACHE_SIZE = 4096
_RENDERED: dict[tuple, RenderedPage] = {}


def _cache_key(screen: Screen, page: int, messages: Catalog) -> tuple:
    names = _prompt_variables(messages, screen.prompt_key, screen.lang)
    return (messages, screen.prompt_key, screen.lang, screen.text, screen.error,
            screen.options, screen.can_go_back, screen.can_go_home, page,
            tuple(str(screen.variables.get(name) or "") for name in names))


@functools.lru_cache(maxsize=1024)
def _prompt_variables(messages: Catalog, key: str, lang: str) -> tuple[str, ...]:
    return tuple(placeholders(messages.template(key, lang))) if key in messages else ()


def _render(screen: Screen, page: int, messages: Catalog) -> RenderedPage:
    nav = {key: f"{key} {normalize_latin(messages.text(name, screen.lang))}"
           for key, name in ((MORE, "nav.more"), (BACK, "nav.back"), (HOME, "nav.home"))}
    head = _Page(_clean(screen.error), _clean(screen.text), [], [])
    options = [normalize_latin(f"{option.key} {option.label}") for option in screen.options]
    limit = screen_limit("\n".join([head.text(), *options, *nav.values()]))
    needed_first = screen_length(_compose(head, options, nav, limit, 0)[0].text())
    if len(options) > 1 and _fits(options, limit // 2):
        # A short menu is never paged (an error line must not push "2 हिंदी" off the
        # first screen): the error line and prompt are cut instead.
        needed_first = screen_length(_Page(head.error, head.prompt, options, []).text())
    if needed_first > limit:
        _make_room(head, screen, messages, options, nav, limit)
    built, spans = _compose(head, options, nav, limit, page)
    page = min(max(page, 0), len(spans) - 1)
    optional = [nav[BACK]] if page == 0 and screen.can_go_back else []
    optional += [nav[HOME]] if screen.can_go_home else []
    for line in optional:
        if _fits([built.text(), line], limit):
            built.nav.append(line)
    needed = needed_first if page == 0 else screen_length(built.text())
    _cut_lines(built, limit)
    text = built.text()
    while screen_length(text) > limit:  # last resort (e.g. absurd nav labels): never exceed
        text = text[:-1]
    start, stop = spans[page]
    keys = tuple(option.key for option in screen.options[start:stop])
    return RenderedPage(text, page, len(spans), keys, screen_length(text), limit, needed)


def _clean(line: str | None) -> str | None:
    """A line made GSM-7 friendly, or None when empty."""
    return normalize_latin(line) if line else None


def _fits(lines: list[str], limit: int) -> bool:
    """True if the non-empty lines joined by newlines fit the limit."""
    return screen_length("\n".join(line for line in lines if line)) <= limit


def _compose(
    head: _Page, options: list[str], nav: dict[str, str], limit: int, page: int
) -> tuple[_Page, list[tuple[int, int]]]:
    """Page `page` (clamped) with its required navigation, and the spans of all pages."""
    spans = _paginate([line for line in (head.error, head.prompt) if line], options, nav, limit)
    page = min(max(page, 0), len(spans) - 1)
    start, stop = spans[page]
    required = ([nav[MORE]] if stop < len(options) else []) + ([nav[BACK]] if page > 0 else [])
    first = page == 0
    built = _Page(head.error if first else None, head.prompt if first else None,
                  options[start:stop], required)
    return built, spans


def _paginate(
    head: list[str], options: list[str], nav: dict[str, str], limit: int
) -> list[tuple[int, int]]:
    """Split options into pages: [(start, stop)], each page as full as it can be."""
    spans: list[tuple[int, int]] = []
    start = 0
    while start < len(options) or not spans:
        first = not spans
        fixed = head if first else [nav[BACK]]
        rest = options[start:]
        count = len(rest)
        while count > 1:
            more = [nav[MORE]] if count < len(rest) else []
            if _fits(fixed + rest[:count] + more, limit):
                break
            count -= 1
        spans.append((start, start + count))
        start += count
        if not rest:
            break
    return spans


def _ellipsis(limit: int) -> str:
    """An ellipsis that does not change the screen's encoding."""
    return "..." if limit == USSD_GSM7_LIMIT else "…"


def _cut(text: str, remove: int, ellipsis: str) -> str:
    """Shorten text by at least `remove` characters, ending it with the ellipsis."""
    keep = max(len(text) - remove - len(ellipsis), 0)
    return text[:keep] + ellipsis if keep else ""


def _over(page: _Page, limit: int) -> int:
    """How many characters the page is over the limit (<= 0 when it fits)."""
    return screen_length(page.text()) - limit


def _make_room(
    head: _Page, screen: Screen, messages: Catalog, options: list[str], nav: dict[str, str],
    limit: int,
) -> None:
    """Cut the error line and prompt so the first page holds all options when they are short
    (at most half a screen), else the first option and "98 More"."""
    if _fits(options, limit // 2):
        reserved = options
    else:
        reserved = options[:1] + ([nav[MORE]] if len(options) > 1 else [])
    trial = _Page(head.error, head.prompt, reserved, [])
    if trial.prompt and screen.prompt_key in messages:
        _cut_variables(trial, screen, messages.template(screen.prompt_key, screen.lang), limit)
    _cut_lines(trial, limit)
    head.error, head.prompt = trial.error, trial.prompt


def _cut_lines(page: _Page, limit: int) -> None:
    """Cut the prompt, then the longest option labels, then the error line until the page fits."""
    ellipsis = _ellipsis(limit)
    for _ in range(_MAX_CUTS):
        over = _over(page, limit)
        if over <= 0:
            return
        if page.prompt and len(page.prompt) > MIN_VALUE_CHARS:
            page.prompt = _cut(page.prompt, over, ellipsis)
        elif page.options and max(map(len, page.options)) > MIN_VALUE_CHARS + 2:
            longest = max(range(len(page.options)), key=lambda i: len(page.options[i]))
            page.options[longest] = _cut(page.options[longest], over, ellipsis)
        elif page.error:
            page.error = _cut(page.error, over, ellipsis)
        else:
            return


def _cut_variables(page: _Page, screen: Screen, template: str, limit: int) -> None:
    """Re-fill the prompt with values cut until the page fits: names first, then fixed
    advice lines at the prompt's end, then the longest other values; never a booking code."""
    template = normalize_latin(template)
    values = {name: normalize_latin(str(screen.variables.get(name) or ""))
              for name in placeholders(template)}
    shortest = MIN_VALUE_CHARS + len(_ellipsis(limit))
    for _ in range(_MAX_CUTS):
        over = _over(page, limit)
        if over <= 0:
            return
        cuttable = [name for name in values
                    if name not in NEVER_CUT and len(values[name]) > shortest]
        names = [name for name in cuttable if name in CUT_FIRST]
        lines = template.split("\n")
        if not names and len(lines) > 1 and not placeholders(lines[-1]):
            template = "\n".join(lines[:-1])
        elif cuttable:
            longest = max(names or cuttable, key=lambda name: len(values[name]))
            value = values[longest]
            keep = max(len(value) - over, shortest)
            values[longest] = _cut(value, len(value) - keep, _ellipsis(limit))
        else:
            return
        page.prompt = fill(template, values)
