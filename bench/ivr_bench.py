"""IVR load benchmark: whole voice calls (register by voice, then book) against the gateway's
Twilio webhook under gunicorn, in the same run as the minimal-endpoint baseline.

Reuses bench/ussd_bench.py: the same stack (redis-server, fresh SQLite with demo data, the
gateway and bench/minimal_app.py under the same gunicorn flags), the same load loop, warm-up
and percentiles. Each simulated caller is a new number and posts what Twilio would: the call,
then English, Register, a recording URL for the name, year, gender, ID type, ID digits, PIN
code, confirm, Book now, date, center, window, confirm -> "Booked!" (15 webhook steps).
Run without TWILIO_AUTH_TOKEN in the environment (the bench does not sign requests).

Every answer is checked (bench/ussd_screens.py ``check_voice``): it must say the screen the
call expects next, and none of the texts of a step not done (try again, error, queue,
busy, rate limit, "Invalid choice.", no input heard); a ``<Hangup/>`` before the last step,
or a last answer without "Booked! ... code", is an error too. Steps/s, percentiles and the
ratio are of the checked steps only; errors are counted by kind.

    .venv/bin/python bench/ivr_bench.py                     # 32 concurrent calls, 20 s
    .venv/bin/python bench/ivr_bench.py --phones 8,32 --json
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ussd_bench import Stats, hello, measure, parse_args, post, start_stack  # noqa: E402
from ussd_screens import JOURNEY, check_voice  # noqa: E402

CALL_STEPS = 15
# the USSD journey's screens, but the recorded name is asked once more by speech (Twilio)
EXPECTED = [*JOURNEY[:3], ("voice.say_name_again", "registration.birth_year"), *JOURNEY[4:]]


class Calls:
    """New callers (+9197, a 3-digit run id, a 5-digit counter), each with one call's keys."""

    def __init__(self, pincodes: list[str]) -> None:
        self.run, self.count, self.pincodes = random.randrange(1000), 0, pincodes

    def next(self) -> tuple[str, str, list[tuple[str, dict[str, str]]]]:
        self.count = n = self.count + 1
        phone = f"+9197{self.run:03d}{n % 100000:05d}"
        keys = ["1", "1"]
        after = [f"{1940 + n % 60}#", "2", "1", f"{n % 10000:04d}#",
                 f"{self.pincodes[n % len(self.pincodes)]}#", "1", "1", "1", "1", "1", "1"]
        steps = [("", {})] + [("/gather", {"Digits": k}) for k in keys]
        steps.append(("/record", {"RecordingUrl": f"https://rec.example/{phone[1:]}.mp3"}))
        steps += [("/gather", {"Digits": k}) for k in after]
        return phone, f"CA{self.run:03d}{n:029x}", steps


async def call(http, base: str, calls: Calls, stats: Stats) -> None:
    """One new caller registers one person by voice and books; failures go to ``stats``."""
    phone, call_sid, steps = calls.next()
    for index, (path, fields) in enumerate(steps):
        form = {"CallSid": call_sid, "From": phone, "To": "+18005550100", **fields}
        answer = await post(http, f"{base}/ivr/twilio{path}", form, stats)
        if answer is None:
            return
        problem = check_voice(answer.body, EXPECTED[index])
        if not problem and "<Hangup" in answer.body and index < len(steps) - 1:
            problem = "call ended early"
        if problem:
            stats.error(problem, f"step {index}: {answer.body}")
            return
        stats.step(answer)
    if answer.ended >= stats.window_start:
        stats.journeys += 1  # the last check found "Booked!" with its code


def run_level(servers, phones: int, args, calls: Calls) -> dict[str, Any]:
    """Calls on the gateway, then the minimal endpoint, at ``phones`` concurrency."""
    base = servers["gateway"].base
    hello_url = servers["minimal"].base + "/ussd/africastalking"
    gateway = measure(servers["gateway"], phones, args,
                      lambda http, st: call(http, base, calls, st))
    minimal = measure(servers["minimal"], phones, args,
                      lambda http, st: hello(http, hello_url, st))
    ratio = gateway["steps_per_s"] / max(minimal["steps_per_s"], 0.1)
    return {"calls": phones, "gateway": gateway, "minimal": minimal, "ratio": round(ratio, 2)}


def print_table(results: list[dict[str, Any]]) -> None:
    header = (f"{'calls':>5} {'calls/s':>8} {'steps/s':>8} {'p50':>6} {'p95':>6} {'p99':>6} "
              f"{'errors':>6} | {'min req/s':>9} {'p99':>6} | {'ratio':>5}")
    print(header + "\n" + "-" * len(header))
    for r in results:
        g, m = r["gateway"], r["minimal"]
        print(f"{r['calls']:>5} {g['journeys_per_s']:>8.2f} {g['steps_per_s']:>8.1f} "
              f"{g['p50_ms']:>6.1f} {g['p95_ms']:>6.1f} {g['p99_ms']:>6.1f} {g['errors']:>6} | "
              f"{m['steps_per_s']:>9.1f} {m['p99_ms']:>6.1f} | {r['ratio']:>5.2f}")
        for name in ("gateway", "minimal"):
            if r[name]["first_error"]:
                print(f"  {name}: {r[name]['error_kinds']}; first: {r[name]['first_error']}")
    print("latencies in ms per IVR webhook step (one TwiML answer)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.py_spy = None
    from gateway.registry.demo_data import DEMO_CENTERS

    calls = Calls([row[3] for row in DEMO_CENTERS])
    with contextlib.ExitStack() as stack:
        servers = start_stack(stack, args)
        results = [run_level(servers, phones, args, calls) for phones in args.levels]
    meta = {"cpus": os.cpu_count(), "workers": args.workers, "seconds": args.seconds,
            "database": (args.database_url or "sqlite").split(":")[0].split("+")[0]}
    if args.json:
        print(json.dumps({"meta": meta, "levels": results}, indent=2))
    else:
        print(f"{meta['cpus']} CPUs, {args.workers} gunicorn workers, {meta['database']}, "
              f"{args.seconds:g} s per run after {args.warmup:g} s warm-up")
        print_table(results)
    return 1 if any(r["gateway"]["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
