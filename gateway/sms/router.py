"""Which providers to try for a number, in which order.

Providers are tried in their configured priority order, except that a route whose
``prefix`` is the longest match for the number moves its ``prefer`` list to the front.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.config import SmsRouteSettings


class Router:
    """Failover order per phone number, from the priority list and the routing rules."""

    def __init__(self, provider_names: Sequence[str], routes: Iterable[SmsRouteSettings] = ()):
        self.names = list(provider_names)
        self.routes = sorted(routes, key=lambda r: len(r.prefix), reverse=True)

    def order(self, phone: str, exclude: Iterable[str] = ()) -> list[str]:
        """Provider names to try for ``phone``, best first, without those in ``exclude``."""
        preferred = next((r.prefer for r in self.routes if phone.startswith(r.prefix)), [])
        ranked = [n for n in preferred if n in self.names]
        ranked += [n for n in self.names if n not in ranked]
        skip = set(exclude)
        return [n for n in ranked if n not in skip]
