"""The channel-agnostic menu engine (pure: no Flask, SQL, Redis or HTTP).

    flows = load_flows("gateway/ussd_menus")           # raises MenuError on invalid menus
    state, screen = start(flows, ctx)                  # ctx: Context
    state, screen, effects = resume(flows, state, user_input, services)
    screen = current_screen(flows, state)              # re-show without calling actions
"""

from gateway.flows.catalog import Catalog
from gateway.flows.engine import build_screen, current_screen, resume, start
from gateway.flows.errors import MenuError, ServiceUnavailable
from gateway.flows.flowset import FlowSet
from gateway.flows.loader import load_flows, parse_flows
from gateway.flows.model import (
    ActionResult,
    Context,
    Effect,
    InputSpec,
    Item,
    Option,
    Screen,
    Services,
)

__all__ = [
    "ActionResult",
    "Catalog",
    "Context",
    "Effect",
    "FlowSet",
    "InputSpec",
    "Item",
    "MenuError",
    "Option",
    "Screen",
    "ServiceUnavailable",
    "Services",
    "build_screen",
    "current_screen",
    "load_flows",
    "parse_flows",
    "resume",
    "start",
]
