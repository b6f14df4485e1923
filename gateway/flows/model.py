"""Public value types of the menu engine: what goes in (Context), what comes out (Screen, Effect)
and what the injected service object returns (ActionResult, Item)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from gateway.text.i18n import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Item:
    """One entry of a dynamic list: `value` is saved, `vars` are merged into the session vars."""

    value: str
    label: str
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionResult:
    """What a service action returns: an outcome to route on, vars to merge, list items."""

    outcome: str = "ok"
    vars: dict[str, Any] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)


class Services(Protocol):
    """The domain boundary the engine calls; implemented by the registry layer."""

    def call(self, name: str, vars: dict[str, Any]) -> ActionResult:
        """Run action `name` with the session vars."""

    def action_names(self) -> set[str]:
        """Names `call` accepts (used by the menu checker)."""


@dataclass(frozen=True)
class Context:
    """Everything the engine needs to start a session."""

    phone: str
    lang: str | None
    today: str  # ISO date, in the deployment's timezone
    services: Services | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """A numbered choice; keys run 1..N over the whole list (channels paginate, not the engine)."""

    key: str
    label: str
    audio: str = ""  # a list item's recording (a name said on a call), played by voice


@dataclass(frozen=True)
class InputSpec:
    """Free input expected on this screen: "text" (letters) or "digits" (keypad/DTMF)."""

    kind: str
    min_len: int
    max_len: int


@dataclass(frozen=True)
class Screen:
    """A channel-neutral screen: USSD renders it as text, IVR as speech."""

    screen_id: str
    prompt_key: str
    text: str
    options: tuple[Option, ...] = ()
    input: InputSpec | None = None
    error: str | None = None
    final: bool = False
    lang: str = DEFAULT_LANGUAGE
    variables: dict[str, Any] = field(default_factory=dict)
    can_go_back: bool = False  # "0" returns to the previous screen
    can_go_home: bool = False  # "00" returns to the main menu


@dataclass(frozen=True)
class Effect:
    """Something the channel adapter should know about after a step.

    kinds:
      "language_set"  data {"lang": "hi"}            the session language changed
      "ended"         data {"reason": ...}           the session is over; reason is one of
                      "completed", "too_many_invalid", "error" (then also "detail")
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
