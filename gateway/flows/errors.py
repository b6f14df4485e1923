"""Exceptions raised by the menu engine."""

from __future__ import annotations


class MenuError(Exception):
    """The menu definitions are invalid; `errors` lists every problem as a path string,
    e.g. "registration.yaml: screens.pick_center.next: 'confirm_x' does not exist"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


class ServiceUnavailable(Exception):
    """A service action could not reach its backing store (database down, timeout).

    Unlike other action failures it is not turned into an error screen: it propagates to
    the channel adapter, which answers "please try again" and keeps the session as it was
    before the answer, so nothing typed so far is lost.
    """
