"""The loaded, validated menu definitions: every screen of every journey plus the messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.flows.catalog import Catalog, Translations

SCREEN_TYPES = ("menu", "input", "list", "confirm", "action", "end")
ANY_OUTCOME = "*"


@dataclass(frozen=True)
class OptionDef:
    """One menu option: label translations, target screen id, vars to set when chosen."""

    label: Translations
    next: str
    set: dict[str, str] = field(default_factory=dict)
    voice: Translations | None = None  # spoken instead of the label on voice channels


@dataclass(frozen=True)
class ScreenDef:
    """One screen as written in YAML, with every target resolved to a full id ("journey.screen")."""

    id: str
    type: str
    prompt: Translations | None = None
    options: tuple[OptionDef, ...] = ()
    validate: str | None = None
    validate_args: dict[str, Any] = field(default_factory=dict)
    save: str | None = None
    next: str | None = None
    routes: dict[str, str] = field(default_factory=dict)  # action outcome -> screen id
    source: str | None = None
    call: str | None = None
    empty: str | None = None
    yes: str | None = None
    no: str | None = None
    clear_history: bool = False
    voice: Translations | None = None  # spoken wording, instead of the prompt, on voice
    audio: dict[str, str] = field(default_factory=dict)  # lang -> recorded prompt file/URL
    voice_record: bool = False  # input screens: on voice, record the answer (no keypad)

    @property
    def interactive(self) -> bool:
        """True for screens that wait for an answer."""
        return self.type in ("menu", "input", "list", "confirm")

    def targets(self) -> list[str]:
        """Every screen id this screen can lead to."""
        found = [option.next for option in self.options]
        found += list(self.routes.values())
        found += [t for t in (self.next, self.empty, self.yes, self.no) if t]
        return found


@dataclass(frozen=True)
class FlowSet:
    """All journeys of a menu directory. `version` is a hash of the YAML content."""

    screens: dict[str, ScreenDef]
    start: str
    home: str
    messages: Catalog
    version: str
    # Menus a journey file names as its own `home:` (e.g. the health worker's menu): once a
    # session has reached one, "00" returns there instead of to `home`.
    journey_homes: frozenset[str] = frozenset()

    def home_for(self, state_home: str | None) -> str:
        """Where "00" leads for a session whose last reached journey home is ``state_home``."""
        return state_home if state_home in self.journey_homes else self.home

    def is_home(self, screen_id: str) -> bool:
        return screen_id == self.home or screen_id in self.journey_homes


def screen_path(screen_id: str) -> str:
    """The error path of a screen: "booking.pick_center" -> "booking.yaml: screens.pick_center"."""
    journey, _, name = screen_id.partition(".")
    return f"{journey}.yaml: screens.{name}"
