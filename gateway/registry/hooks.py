"""What features do when the registry changes: small lists that gateway.wiring fills at start.

The registry calls them without knowing who listens, so it imports no feature.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

# (session, appointment id), in the change's own transaction, when an appointment stops
# standing (cancelled, moved): reminders withdraw their unsent messages for it.
ON_APPOINTMENT_WITHDRAWN: list[Callable[[Session, int], Any]] = []
# (RegistryActions, center id), after the commit, when a place was given back: the
# waitlist offers it at once to the people waiting near that center.
ON_PLACE_FREED: list[Callable[[Any, int], Any]] = []


def add(hooks: list, function: Callable) -> None:
    """Append ``function`` to ``hooks`` once (wiring may run more than once per process)."""
    if function not in hooks:
        hooks.append(function)


def appointment_withdrawn(session: Session, appointment_id: int) -> None:
    """Tell every listener that ``appointment_id`` no longer stands."""
    for hook in ON_APPOINTMENT_WITHDRAWN:
        hook(session, appointment_id)


def place_freed(actions: Any, center_id: int) -> None:
    """Tell every listener that a place at ``center_id`` is free again."""
    for hook in ON_PLACE_FREED:
        hook(actions, center_id)
