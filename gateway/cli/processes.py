"""The launcher's child processes and its terminal: who receives Ctrl-C, and how each
part is stopped.

A terminal sends Ctrl-C to its whole foreground process group. Were the children in it,
each would start its own shutdown at once, in no order and with its own complaints
(gunicorn's "was sent SIGKILL!", RQ's warm-shutdown lines), and ``make`` above
``vaxgate run`` would report the interrupt as a failure. So each child gets a process group
of its own, and the launcher takes the terminal's foreground for its own group: Ctrl-C
reaches the launcher alone, which stops the parts in order; ``make`` never sees the signal
and exits with the launcher's 0.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h
GROUP_GRACE_S = 3  # for what a stopped child left in its group


def _stop_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the launcher dies, even by kill -9,
    since no Ctrl-C reaches a child outside the terminal's process group."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """Start ``args`` in a process group of its own (its children join it)."""
    return subprocess.Popen(args, env=env, cwd=cwd, process_group=0,
                            preexec_fn=_stop_with_parent if sys.platform == "linux" else None)


def stop(child: subprocess.Popen, timeout: float, hurry: Callable[[], bool]) -> bool:
    """SIGTERM, then wait up to ``timeout`` s (or until ``hurry()``) before SIGKILL to its
    whole group; True when it stopped by itself. Then end what it left in its group (RQ's
    scheduler process, when the worker itself was killed)."""
    stopped = True
    if child.poll() is None:
        child.terminate()
        stopped = _wait(lambda: child.poll() is not None, timeout, hurry)
    if not _wait(lambda: not _signal_group(child.pid, signal.SIGTERM), GROUP_GRACE_S, hurry):
        _signal_group(child.pid, signal.SIGKILL)
    child.wait()
    return stopped


def _wait(done: Callable[[], bool], timeout: float, hurry: Callable[[], bool]) -> bool:
    """True once ``done()``; False after ``timeout`` s or when ``hurry()``."""
    deadline = time.monotonic() + timeout
    while not done():
        if hurry() or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _signal_group(group: int, signum: int) -> bool:
    """Send ``signum`` to a process group; False when none of it is left."""
    try:
        os.killpg(group, signum)
        return True
    except ProcessLookupError:
        return False


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """Run the block as the terminal's foreground process group, alone, when started in
    someone else's (``make run``); give the terminal back afterwards."""
    tty = _foreground_tty()
    if tty is None or os.getpgrp() == os.getpid():
        yield  # no terminal, in the background, or already a group of its own (a shell's job)
        return
    previous = os.getpgrp()
    os.setpgid(0, 0)
    _give_terminal(tty, os.getpgrp())
    try:
        yield
    finally:
        _give_terminal(tty, previous)


def _foreground_tty() -> int | None:
    """stdin's descriptor when it is a terminal whose foreground group is ours."""
    try:
        fd = sys.stdin.fileno()
        return fd if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp() else None
    except (AttributeError, OSError, ValueError):
        return None


def _give_terminal(fd: int, group: int) -> None:
    # a background group changing the foreground would be stopped by SIGTTOU
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    except OSError:
        pass  # the other group is gone; the shell takes its terminal back itself
    finally:
        signal.signal(signal.SIGTTOU, previous)
