"""Overload: 4x the admission ceiling for a minute, and nobody is cut off or sees a 5xx.

One command, bounded in time, on 127.0.0.1 only. It starts a redis-server, a fresh SQLite
database with the demo centers (or ``--database-url``) and the gateway under gunicorn, as
bench/ussd_bench.py does, with the repository's config.yaml except a small session ceiling
(``--ceiling``, 50). The worker's cron job that hands out turn passes
(gateway/sessions/turns.py ``release_turns``: pass + SMS in the ledger) runs in this
process every ``admission.release_interval_seconds`` (1 s here); no SMS is sent.

``--callers`` (200 = 4 x 50) simulated callers dial for ``--seconds`` (60), each a new
number, a pause of ``--think`` seconds before every answer (a person reading the screen):

- answered ``CON``: admitted (the language screen: anything else counts as a problem of its
  kind); the caller registers and books (15 steps). Every answer inside that session must
  be the screen the journey expects (bench/ussd_screens.py); anything else (an ``END``
  before "Booked!", a queue, busy, try-again or rate-limit screen, "Invalid choice.", a
  wrong screen) or a non-200 answer counts as *cut off*, with its kind in the answers;
  the step p99 is of the expected answers only;
- answered ``END`` with a place in the queue: *refused with a position*, in time if the answer
  came within the aggregator's budget (``ussd.step_budget_seconds``, 2 s). The caller then
  waits for its turn (its pass appears in Redis: the SMS) and dials again, and must be admitted;
- anything else: refused without a position.

Printed: dials, admitted, refused with a position (and the share in time), turn passes and
whether they went out in queue order, redials with a pass admitted, completed journeys,
the most active sessions seen, 5xx answers (must be 0) and callers cut off (must be 0).

    .venv/bin/python bench/overload.py                   # 200 callers, ceiling 50, 60 s
    .venv/bin/python bench/overload.py --seconds 10      # a shorter run
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402 - comes with twilio, a gateway dependency
from ussd_bench import (  # noqa: E402
    JOURNEY_STEPS,
    ROOT,
    SERVICE_CODE,
    Callers,
    Outcomes,
    add_stack_options,
    percentile,
    start_stack,
)
from ussd_screens import JOURNEY, check  # noqa: E402

POSITION = re.compile(r"number (\d+) in the queue")
REQUEST_TIMEOUT_S = 10.0
PASS_POLL_S = 0.25


@dataclass
class Tally(Outcomes):
    """What the callers saw."""

    refusal_latencies: list[float] = field(default_factory=list)
    step_latencies: list[float] = field(default_factory=list)


class Bench:
    """The callers, the turn releaser and the sampler, sharing one deadline."""

    def __init__(self, url: str, redis_client, args: argparse.Namespace, budget: float):
        from gateway.registry.demo_data import DEMO_CENTERS
        self.url, self.redis, self.args, self.budget = url, redis_client, args, budget
        self.passes_key, self.active_key = _admission_key("passes"), _admission_key("active")
        self.callers = Callers([row[3] for row in DEMO_CENTERS])
        self.tally = Tally()
        self.deadline = 0.0
        self.max_active = 0
        self.sessions = 0

    async def post(self, http, form: dict[str, str]) -> tuple[int, str, float]:
        began = time.perf_counter()
        async with http.post(self.url, data=form) as reply:
            body = await reply.text()
        return reply.status, body, time.perf_counter() - began

    async def caller(self, http) -> None:
        """New callers one after another until the deadline."""
        while time.perf_counter() < self.deadline:
            phone, inputs, _ = self.callers.next()
            try:
                await self.call(http, phone, inputs, with_pass=False)
            except (TimeoutError, aiohttp.ClientError) as exc:
                self.tally.add("transport error", repr(exc))
                await asyncio.sleep(0.1)

    async def call(self, http, phone: str, inputs: list[str], with_pass: bool) -> None:
        """Dial; walk the journey if admitted, else wait for the pass and dial again."""
        self.sessions += 1
        form = {"sessionId": f"over-{self.sessions}-{phone[1:]}", "serviceCode": SERVICE_CODE,
                "phoneNumber": phone, "networkCode": "40410", "text": ""}
        status, body, took = await self.post(http, form)
        if status >= 500:
            self.tally.add("5xx", body)
            return
        self.tally.add("dials")
        if status == 200 and body.startswith("CON "):
            problem = check(body, JOURNEY[0])
            if problem:
                self.tally.add(f"dial answered: {problem}", body)
                return
            self.tally.add("admitted on a redial with a pass" if with_pass else "admitted")
            await self.journey(http, form, inputs)
            return
        found = POSITION.search(body)
        if found is None:
            self.tally.add("redial with a pass refused" if with_pass
                           else "refused without a position", body)
            return
        self.tally.add("redial with a pass queued again" if with_pass
                       else "refused with a position")
        self.tally.refusal_latencies.append(took)
        if took <= self.budget:
            self.tally.add("position given in time")
        if not with_pass and await self.wait_for_turn(phone):
            await self.call(http, phone, inputs, with_pass=True)

    async def journey(self, http, form: dict[str, str], inputs: list[str]) -> None:
        for step in range(1, JOURNEY_STEPS):
            await asyncio.sleep(self.args.think)
            if time.perf_counter() >= self.deadline:
                return  # the run is over: the caller hangs up, nobody cut them off
            form["text"] = "*".join(inputs[:step])
            status, body, took = await self.post(http, form)
            if status >= 500:
                self.tally.add("5xx", body)
            problem = f"http {status}" if status != 200 else check(body, JOURNEY[step])
            if problem:
                self.tally.add(f"in session: {problem}")
                self.tally.add("cut off in session", f"step {step}: {problem}: {body}")
                return
            self.tally.step_latencies.append(took)
        self.tally.add("journeys completed")  # the last check found "Booked!" with a code

    async def wait_for_turn(self, phone: str) -> bool:
        """Wait for the pass (the 'your turn' SMS); False if the run ends first."""
        while time.perf_counter() < self.deadline:
            if await asyncio.to_thread(self.redis.zscore, self.passes_key, phone) is not None:
                self.tally.add("turn passes received")
                return True
            await asyncio.sleep(PASS_POLL_S)
        return False

    async def sample(self) -> None:
        while time.perf_counter() < self.deadline:
            active = await asyncio.to_thread(self.redis.zcard, self.active_key)
            self.max_active = max(self.max_active, int(active))
            await asyncio.sleep(0.5)

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        self.deadline = time.perf_counter() + self.args.seconds
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
            await asyncio.gather(self.sample(),
                                 *(self.caller(http) for _ in range(self.args.callers)))


class TurnReleaser(threading.Thread):
    """The worker's cron job, here: hand out passes every interval, in queue order."""

    def __init__(self, ctx, interval: float):
        super().__init__(daemon=True)
        self.ctx, self.interval = ctx, interval
        self.queue_key = _admission_key("queue")
        self.stopped = threading.Event()
        self.released: list[str] = []
        self.arrival: dict[str, float] = {}  # phone -> its arrival number in the queue
        self.errors = 0

    def run(self) -> None:
        from gateway.sessions.turns import release_turns

        while not self.stopped.wait(self.interval):
            try:
                waiting = self.ctx.redis.zrange(self.queue_key, 0, -1, withscores=True)
                self.arrival.update((phone.decode(), score) for phone, score in waiting)
                self.released += release_turns(self.ctx)
            except Exception:  # noqa: BLE001 - counted; a cron run may fail, the next retries
                self.errors += 1

    def in_queue_order(self) -> bool:
        """Passes went out first come, first served (phones queued and released within
        one interval, never seen waiting, are left out)."""
        ranks = [self.arrival[p] for p in self.released if p in self.arrival]
        return ranks == sorted(ranks)


def _admission_key(name: str) -> str:
    """The admission key ``name``: the bench runs one admission shard (``bench_config``),
    so the queue order and the most active sessions are exact."""
    from gateway.sessions.admission import PREFIX

    return f"{PREFIX}{{a0}}:{name}"


def bench_config(tmp: Path, ceiling: int) -> Path:
    """config.yaml with the bench's ceiling and a 1 s release interval."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config.setdefault("admission", {}).update(max_active_sessions=ceiling, shards=1,
                                              release_interval_seconds=1)
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    from gateway.config import load_settings
    from gateway.infra.redis_clients import connect_redis
    from gateway.storage import Database

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vaxgate-over-")))
        os.environ["VAXGATE_CONFIG"] = str(bench_config(tmp, args.ceiling))
        servers = start_stack(stack, args, minimal=False)
        env = servers["gateway"].env
        settings = load_settings(env=env)
        client = connect_redis(env["VAXGATE_REDIS_URL"])
        database = Database(env["VAXGATE_DATABASE_URL"])
        stack.callback(database.dispose)
        ctx = SimpleNamespace(settings=settings, redis=client, queue_redis=client, db=database)
        releaser = TurnReleaser(ctx, settings.admission.release_interval_seconds)
        releaser.start()
        stack.callback(releaser.stopped.set)
        bench = Bench(servers["gateway"].base + "/ussd/africastalking", client, args,
                      settings.ussd.step_budget_seconds)
        asyncio.run(bench.run())
        releaser.stopped.set()
        releaser.join(timeout=10)
    return summarize(args, bench, releaser, settings.ussd.step_budget_seconds)


def summarize(args, bench: Bench, releaser: TurnReleaser, budget: float) -> dict[str, Any]:
    counts = bench.tally.counts
    refused = counts.get("refused with a position", 0)
    in_time = counts.get("position given in time", 0)
    steps = sorted(bench.tally.step_latencies)
    refusals = sorted(bench.tally.refusal_latencies)
    return {"callers": args.callers, "ceiling": args.ceiling, "seconds": args.seconds,
            "think_s": args.think, "budget_s": budget, "counts": counts,
            "refused_with_position": refused,
            "position_in_time_pct": round(100 * in_time / refused, 1) if refused else None,
            "refusal_p99_ms": round(percentile(refusals, 99), 1),
            "step_p50_ms": round(percentile(steps, 50), 1),
            "step_p99_ms": round(percentile(steps, 99), 1),
            "passes": len(releaser.released), "release_errors": releaser.errors,
            "passes_in_queue_order": releaser.in_queue_order(),
            "max_active_sessions": bench.max_active,
            "server_errors_5xx": counts.get("5xx", 0),
            "cut_off_in_session": counts.get("cut off in session", 0),
            "wrong_dial_answers": sum(n for k, n in counts.items()
                                      if k.startswith("dial answered: ")),
            "first_problem": bench.tally.first_problem}


def print_report(r: dict[str, Any]) -> None:
    c = r["counts"]
    print(f"{r['callers']} callers against a ceiling of {r['ceiling']} sessions for "
          f"{r['seconds']:g} s, {r['think_s']:g} s to read each screen")
    header = (f"{'dials':>6} {'admitted':>8} {'queued':>6} {'in time':>7} {'passes':>6} "
              f"{'redial ok':>9} {'journeys':>8} {'max active':>10} {'step p99':>8} | "
              f"{'5xx':>4} {'cut off':>7}")
    print(header + "\n" + "-" * len(header))
    in_time = "-" if r["position_in_time_pct"] is None else f"{r['position_in_time_pct']:.1f}%"
    print(f"{c.get('dials', 0):>6} {c.get('admitted', 0):>8} {r['refused_with_position']:>6} "
          f"{in_time:>7} {r['passes']:>6} {c.get('admitted on a redial with a pass', 0):>9} "
          f"{c.get('journeys completed', 0):>8} {r['max_active_sessions']:>10} "
          f"{r['step_p99_ms']:>8.0f} | {r['server_errors_5xx']:>4} "
          f"{r['cut_off_in_session']:>7}")
    print(f"queued = refused with a place in the queue; in time = that answer within "
          f"{r['budget_s']:g} s (p99 {r['refusal_p99_ms']:.0f} ms); passes handed out in "
          f"queue order: {'yes' if r['passes_in_queue_order'] else 'NO'}")
    print("all answers: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    if r["first_problem"]:
        print(f"first problem: {r['first_problem']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--callers", type=int, default=200, help="concurrent callers")
    parser.add_argument("--ceiling", type=int, default=50, help="admission ceiling")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they call")
    parser.add_argument("--think", type=float, default=0.3, help="s before each answer")
    add_stack_options(parser, redis_env=False)  # the admission keys must start empty
    args = parser.parse_args(argv)
    if not (1 <= args.callers <= 2000 and 1 <= args.ceiling <= 1000
            and 1 <= args.seconds <= 600 and 0 <= args.think <= 10):
        parser.error("--callers 1..2000, --ceiling 1..1000, --seconds 1..600, --think 0..10")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the servers
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    return 1 if result["server_errors_5xx"] or result["cut_off_in_session"] \
        or result["wrong_dial_answers"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; the servers were stopped")
