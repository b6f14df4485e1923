"""A terminal USSD dialer: speaks the Africa's Talking protocol to a running gateway.

``vaxgate dial`` lets anyone walk the menus without a telecom account: it sends what a
real aggregator sends (sessionId, serviceCode, phoneNumber, networkCode and the whole
input history joined by ``*``) and prints each screen as a phone would show it.
"""
from __future__ import annotations

import uuid

import click
import requests

REQUEST_TIMEOUT_S = 15  # what aggregators give a USSD application


class Dialer:
    """One USSD session against ``base_url``."""

    def __init__(self, base_url: str, phone: str, service_code: str,
                 network_code: str = "40410"):
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/ussd/africastalking"
        self.phone = phone
        self.service_code = service_code
        self.network_code = network_code
        self.session_id = "dial-" + uuid.uuid4().hex[:12]
        self.inputs: list[str] = []

    def step(self, user_input: str | None = None) -> tuple[bool, str]:
        """Send the next input (None to open the session); return (session_open, screen)."""
        if user_input is not None:
            self.inputs.append(user_input)
        response = requests.post(self.url, timeout=REQUEST_TIMEOUT_S, data={
            "sessionId": self.session_id, "serviceCode": self.service_code,
            "phoneNumber": self.phone, "networkCode": self.network_code,
            "text": "*".join(self.inputs)})
        body = response.text
        if response.status_code >= 400:
            raise requests.HTTPError(f"HTTP {response.status_code} from {self.url}")
        if body.startswith("CON "):
            return True, body[4:]
        return False, body[4:] if body.startswith("END ") else body

    def run_interactive(self) -> int:
        """Prompt for input until the gateway ends the session; return an exit code."""
        click.echo(f"Dialling {self.service_code} from {self.phone} at {self.url}\n")
        try:
            is_open, screen = self.step()
            while True:
                click.echo(_framed(screen))
                if not is_open:
                    return 0
                is_open, screen = self.step(click.prompt(">", default="", show_default=False))
        except requests.RequestException as exc:
            click.echo(f"cannot reach the gateway at {self.base_url} ({_why(exc)}); start it "
                       "with `make run`, or choose another with --url, VAXGATE_URL or PORT",
                       err=True)
            return 1
        except (click.Abort, EOFError):
            click.echo("\nhung up")
            return 0


def _why(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {REQUEST_TIMEOUT_S} s"
    if isinstance(exc, requests.ConnectionError):
        return "nothing answers there"
    return str(exc) if isinstance(exc, requests.HTTPError) else type(exc).__name__


def _framed(screen: str) -> str:
    width = max(24, *(len(line) for line in screen.splitlines() or [""]))
    bar = "+" + "-" * (width + 2) + "+"
    lines = [f"| {line.ljust(width)} |" for line in screen.splitlines()]
    return "\n".join([bar, *lines, bar, f"  ({len(screen)} chars)"])
