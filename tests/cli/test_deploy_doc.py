"""docs/deploy.md's granian command lines run the server as ``vaxgate run --server granian``
does: every flag of ``granian_flags`` and the access-log format, so the page cannot drift
from the code it documents."""
from __future__ import annotations

import re

from gateway.cli.launcher import GRANIAN_ACCESS_FORMAT, WEB_THREADS, granian_flags
from gateway.config import PROJECT_DIR

DEPLOY = (PROJECT_DIR / "docs" / "deploy.md").read_text(encoding="utf-8")


def _granian_commands() -> list[str]:
    """Each command that starts granian, its continuation lines joined, as the shell (or
    systemd, whose ``%%`` is one ``%``) reads it."""
    joined = DEPLOY.replace("\\\n", " ").replace("%%", "%")
    return [" ".join(line.split()) for line in joined.splitlines()
            if re.search(r"(^|/|=)granian --interface", line.strip())]


def _options(flags: list[str]) -> list[str]:
    """``["--http", "1", "--no-ws"]`` -> ``["--http 1", "--no-ws"]``."""
    options: list[str] = []
    for item in flags:
        if item.startswith("--"):
            options.append(item)
        else:
            options[-1] += f" {item}"
    return options


def test_every_granian_command_in_deploy_md_has_the_launchers_flags_and_log_format():
    commands = _granian_commands()
    assert len(commands) == 2, commands  # the web-node command and the systemd unit
    for command in commands:
        for option in _options(granian_flags(WEB_THREADS)):
            assert f" {option} " in f" {command} ", (option, command)
        assert f"--access-log-fmt '{GRANIAN_ACCESS_FORMAT}'" in command, command
