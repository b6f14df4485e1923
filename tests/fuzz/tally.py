"""How many generated cases each fuzz target ran, counted as hypothesis runs them.

A test calls ``count(target)`` once per example it executes (explicit ``@example`` cases
included); ``tests/conftest.py`` prints the table at the end of the run, also with ``-q``.
"""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager

CASES: dict[str, int] = defaultdict(int)
SECONDS: dict[str, float] = defaultdict(float)


@contextmanager
def case(target: str):
    """Count one example of ``target`` and the time it took."""
    started = time.perf_counter()
    try:
        yield
    finally:
        CASES[target] += 1
        SECONDS[target] += time.perf_counter() - started


def count(target: str) -> None:
    """Count one example of ``target`` (when timing it is not wanted)."""
    CASES[target] += 1


def write_table(terminalreporter) -> None:
    """The per-target table, if any target ran."""
    if not CASES:
        return
    width = max(len(name) for name in CASES)
    terminalreporter.write_sep("-", "generated cases per fuzz target")
    terminalreporter.write_line(f"{'target':<{width}}  {'cases':>6}  {'seconds':>7}")
    for name in sorted(CASES):
        terminalreporter.write_line(f"{name:<{width}}  {CASES[name]:>6}  {SECONDS[name]:>7.1f}")
    terminalreporter.write_line(f"{'total':<{width}}  {sum(CASES.values()):>6}  "
                                f"{sum(SECONDS.values()):>7.1f}")
