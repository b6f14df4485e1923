"""Instructions per USSD step, counted by valgrind's callgrind: a figure the machine's load
does not move.

On a shared machine a step's CPU time drifts by a third from one run to the next (other
processes take the caches and the cores); the instructions the step executes do not. This
runs the gateway's WSGI app in-process, as ``step_profile.py`` does (journeys from new
phones, each answer checked), under ``valgrind --tool=callgrind --instr-atstart=no``, and
switches counting on (``callgrind_control -i on``) only around the steps asked for. It
prints millions of instructions per step, beside ``bench/minimal_app.py`` answering the same
form, and the step net of that constant endpoint. Switching costs instructions of its own,
measured in the same run (a pair of switches around nothing) and taken off.

    .venv/bin/python bench/step_instructions.py                 # first screen, year of birth
    .venv/bin/python bench/step_instructions.py --steps 0,4,14 --journeys 30

About a minute per step asked for (Python runs ~50x slower under valgrind). The list steps
(11-13) read a cache that lives ``ttl_seconds`` of wall time, which valgrind stretches:
count them with ``step_profile.py``, not here.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from step_profile import STEP_NAMES, call, in_process_gateway, run_journeys  # noqa: E402
from ussd_bench import JOURNEY_STEPS, SERVICE_CODE, Callers  # noqa: E402

COLLECTED = re.compile(r"Collected : (\d+)")


def collected(valgrind_output: str) -> int:
    """The instructions callgrind counted, from its report on stderr."""
    found = COLLECTED.findall(valgrind_output)
    if not found:
        raise SystemExit(f"no callgrind count in:\n{valgrind_output[-2000:]}")
    return int(found[-1])


def count(mode: str, amount: int) -> int:
    """Run this script's ``--child`` under callgrind; the instructions it counted."""
    with tempfile.TemporaryDirectory(prefix="vaxgate-callgrind-") as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={tmp}/out", sys.executable, __file__, "--child", mode,
             "--amount", str(amount)], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{mode}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return collected(done.stderr)


def switch(on: bool, dry_run: bool) -> None:
    if not dry_run:
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                       capture_output=True, check=True)


def child(mode: str, amount: int, dry_run: bool = False) -> None:
    """``cal``: a pair of switches per journey around nothing; ``step:K``: count step K of
    each journey; ``minimal``: count ``amount`` answers of bench/minimal_app.py."""
    if mode == "minimal":
        from minimal_app import app

        body = urlencode({"sessionId": "m", "serviceCode": SERVICE_CODE,
                          "phoneNumber": "+919800000000", "networkCode": "40410",
                          "text": "1*1"}).encode()
        for _ in range(50):  # warm
            call(app, body)
        switch(True, dry_run)
        for _ in range(amount):
            call(app, body)
        switch(False, dry_run)
        return
    step = int(mode.split(":")[1]) if mode.startswith("step:") else None
    with in_process_gateway() as (app, pincodes):
        run_journeys(app, 5, pincodes)  # warm: every code path loaded once
        callers = Callers(pincodes)
        for _ in range(5):
            callers.next()  # the warm-up's phones
        for _ in range(amount):
            _journey(app, callers, step, dry_run)


def _journey(app, callers: Callers, step: int | None, dry_run: bool) -> None:
    phone, inputs, _steps = callers.next()
    form = {"sessionId": f"cg-{phone[1:]}", "serviceCode": SERVICE_CODE,
            "phoneNumber": phone, "networkCode": "40410"}
    if step is None:
        switch(True, dry_run)
        switch(False, dry_run)
    for n in range(JOURNEY_STEPS):
        form["text"] = "*".join(inputs[:n])
        body = urlencode(form).encode()
        if n == step:
            switch(True, dry_run)
        status, answer = call(app, body)
        if n == step:
            switch(False, dry_run)
        if not status.startswith("200"):
            raise SystemExit(f"step {n}: {status} {answer[:200]!r}")
    if b"Booked" not in answer:
        raise SystemExit(f"journey not booked: {answer[:200]!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="0,4", help="journey steps to count (as numbered "
                        "by step_profile.py)")
    parser.add_argument("--journeys", type=int, default=30, help="journeys per step counted")
    parser.add_argument("--minimal", type=int, default=300, help="minimal-endpoint answers")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--amount", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true",
                        help="run the journeys without valgrind (checks the answers only)")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.amount)
        return 0
    steps = [int(s) for s in args.steps.split(",") if s.strip()]
    if args.dry_run:
        for step in steps:
            child(f"step:{step}", args.journeys, dry_run=True)
        child("minimal", args.minimal, dry_run=True)
        print(f"dry run: {len(steps)} x {args.journeys} journeys answered as expected")
        return 0
    if not (shutil.which("valgrind") and shutil.which("callgrind_control")):
        sys.exit("step_instructions needs valgrind: apt-get install valgrind")
    pair = count("cal", args.journeys) / args.journeys  # a pair of switches, per journey
    minimal = count("minimal", args.minimal) / args.minimal
    print(f"Instructions per request (millions; callgrind, in-process, mean of "
          f"{args.journeys} journeys; switching cost {pair / 1e6:.3f} M taken off)")
    print(f"  {'step':<26} {'M instr':>8} {'net of minimal':>15}")
    for step in steps:
        per = (count(f"step:{step}", args.journeys) - pair * args.journeys) / args.journeys
        print(f"  {step:2d} {STEP_NAMES[step]:<23} {per / 1e6:8.2f} {(per - minimal) / 1e6:15.2f}")
    print(f"  {'minimal endpoint':<26} {minimal / 1e6:8.2f}  (bench/minimal_app.py, same form)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
