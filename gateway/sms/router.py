"""Which providers to try for a number, in which order.

Providers are tried in their configured priority order, except that a route whose
``prefix`` is the longest match for the number moves its ``prefer`` list to the front and
leaves out its ``avoid`` list (a provider that does not serve those numbers), and a re-send
moves the provider that just failed the message to the back.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.config import SmsRouteSettings


class Router:
    """Failover order per phone number, from the priority list and the routing rules."""

    def __init__(self, provider_names: Sequence[str], routes: Iterable[SmsRouteSettings] = ()):
        self.names = list(provider_names)
        self.routes = sorted(routes, key=lambda r: len(r.prefix), reverse=True)

    def order(self, phone: str, exclude: Iterable[str] = (),
              last: Iterable[str] = ()) -> list[str]:
        """Provider names to try for ``phone``, best first, without those in ``exclude``;
        those in ``last`` move to the end (a re-send tries another provider first)."""
        route = next((r for r in self.routes if phone.startswith(r.prefix)), None)
        preferred = route.prefer if route else []
        ranked = [n for n in preferred if n in self.names]
        ranked += [n for n in self.names if n not in ranked]
        skip, back = set(exclude) | set(route.avoid if route else ()), set(last)
        ranked = [n for n in ranked if n not in skip]
        return [n for n in ranked if n not in back] + [n for n in ranked if n in back]
