"""Fault-injection fixtures: a whole gateway in real processes per test, and the summary
table of every fault's reconciliation, printed at the end of the session (also with -q)."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from .reconcile import Reconciliation
from .stack import Stack

RESULTS: list[Reconciliation] = []
HEADER = ("fault", "requests sent", "acknowledged", "found afterwards", "lost", "duplicated",
          "note")


@pytest.fixture
def make_stack(tmp_path) -> Iterator:
    """``make_stack(config=..., sms_workers=...)`` starts a stack; all are closed after."""
    stacks: list[Stack] = []

    def make(**kwargs) -> Stack:
        stack = Stack(tmp_path / f"stack{len(stacks)}", **kwargs)
        stacks.append(stack)
        return stack.start()

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture(scope="session", autouse=True)
def provider_outage(request, tmp_path_factory) -> Iterator[Future | None]:
    """Fault d needs 60 s of real outage: when it is selected, it starts in a background
    thread as soon as the first fault test runs, on its own stack, beside the others."""
    if not any(item.name.startswith("test_provider_outage") for item in request.session.items):
        yield None
        return
    from .test_provider_outage import run_provider_outage

    with ThreadPoolExecutor(1, thread_name_prefix="provider-outage") as pool:
        yield pool.submit(run_provider_outage, tmp_path_factory.mktemp("provider_outage"))


@pytest.fixture
def report():
    """Record a reconciliation for the end-of-session table."""
    return RESULTS.append


def pytest_terminal_summary(terminalreporter) -> None:
    if not RESULTS:
        return
    rows = [HEADER, *(tuple(str(v) for v in r.row()) for r in RESULTS)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    terminalreporter.section("faults survived (reconciled after each fault)")
    for row in rows:
        cells = [cell.ljust(w) if i == 0 else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths, strict=False))]
        terminalreporter.write_line("  ".join(cells) + "  " + row[-1])
