"""README.md's examples run as printed: every ``curl`` and ``.venv/bin/vaxgate`` line of
its shell blocks, in order, against a gateway started the README's way (``PORT=… vaxgate
run``, with ``VAXGATE_URL`` in the second terminal), each exiting 0, and each USSD reply
starting as the README's comment under it says."""
from __future__ import annotations

import re
import signal
import subprocess
from dataclasses import dataclass

import click
import pytest

from gateway.cli.commands import main
from gateway.config import PROJECT_DIR

from .conftest import VAXGATE, on_sqlite_only

README = PROJECT_DIR / "README.md"
RUNNABLE = ("curl ", ".venv/bin/vaxgate ")
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass
class Example:
    command: str
    reply: str | None  # the first line of the reply, from the comment under the command


def readme_examples(text: str) -> list[Example]:
    """Every runnable line of the README's ``sh`` blocks (continuation lines joined), with
    the ``# `` comment line right under it, if any."""
    examples: list[Example] = []
    for block in SHELL_BLOCK.findall(text):
        lines, last = iter(block.splitlines()), None
        for line in lines:
            if line.startswith("# ") and last is not None:
                last.reply = line[2:]
                last = None
            elif (line + " ").startswith(RUNNABLE):
                while line.endswith("\\"):
                    line = line[:-1] + next(lines).strip()
                last = Example(line, None)
                examples.append(last)
            else:
                last = None
    return examples


def _run(example: Example, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = example.command
    if not (PROJECT_DIR / ".venv/bin/vaxgate").exists():  # a venv elsewhere (CI)
        command = command.replace(".venv/bin/vaxgate", str(VAXGATE))
    # stdin at its end: `vaxgate dial` shows the first screen, then the caller hangs up
    return subprocess.run(["bash", "-c", command], cwd=PROJECT_DIR, env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


def test_the_readme_has_examples_of_each_kind():
    examples = readme_examples(README.read_text(encoding="utf-8"))
    assert sum(e.command.startswith("curl ") and bool(e.reply) for e in examples) >= 3
    assert any(e.command.startswith(".venv/bin/vaxgate dial") for e in examples)
    assert "VAXGATE_URL" in README.read_text(encoding="utf-8")


@on_sqlite_only
@pytest.mark.timeout(180)
def test_every_readme_example_runs_as_printed(start_gateway):
    gateway = start_gateway()
    gateway.wait_for_summary()
    env = {key: value for key, value in gateway.env.items() if key != "PORT"}
    env["VAXGATE_URL"] = gateway.url  # as the README says for the second terminal

    for example in readme_examples(README.read_text(encoding="utf-8")):
        done = _run(example, env)
        assert done.returncode == 0, (example.command, done.stdout, done.stderr)
        if "/ussd/" in example.command:
            assert done.stdout.startswith(("CON ", "END ")), (example.command, done.stdout)
        if example.reply:
            assert done.stdout.splitlines()[0] == example.reply, (example.command,
                                                                  done.stdout)

    assert gateway.stop(signal.SIGINT) == 0, gateway.output


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> dict[str, click.Command]:
    """Every command of ``vaxgate`` by its words (``db upgrade``)."""
    found = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _commands(command, (*path, name))
        else:
            found[" ".join((*path, name))] = command
    return found


COMMAND_WORDS = re.compile(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*")  # not FILE.csv, [--dry-run]


def _readme_table_commands(text: str) -> set[str]:
    """The commands of the README's table: ``vaxgate a b|c ARG`` names ``a b`` and ``a c``."""
    section = text.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    named = set()
    for cell in re.findall(r"^\| `vaxgate ([^`]+)` \|", section, re.MULTILINE):
        words = [w for w in cell.replace("\\|", "|").split() if COMMAND_WORDS.fullmatch(w)]
        if not words:  # `vaxgate --version`
            continue
        *parents, last = words
        named |= {" ".join((*parents, choice)) for choice in last.split("|")}
    return named


def test_the_readme_names_every_command_and_which_ones_take_json():
    text = README.read_text(encoding="utf-8")
    commands = _commands(main)

    assert _readme_table_commands(text) == set(commands)
    sentence = re.search(r"The commands that report something \((.*?)\)", text, re.DOTALL)
    listed = set(re.findall(r"`([^`]+)`", sentence[1]))
    assert listed == {name for name, command in commands.items()
                      if any("--json" in p.opts for p in command.params)}
