"""Requests/s of the public availability API (/api/v1/public) beside /healthz, and USSD
steps with and without that API load, all against one gateway started for the run.

Starts redis-server, a fresh SQLite database with the demo centers and the gateway under
gunicorn (as ussd_bench.py does, with the public API's per-source limit raised: every
client here is 127.0.0.1). Then, for ``--seconds`` each, ``--clients`` loops GET:

- ``/healthz`` — the baseline: a constant answer, no Redis, no SQL;
- ``findByPin``, ``findByDistrict``, ``calendarByDistrict`` — the cached answers (one Redis
  script per request: the rate count and the cache read);
- ``findByPin`` with ``If-None-Match`` — the 304 a polling app gets.

Every counted answer is checked (status, and the JSON names a Patna center; the 304 has
no body); anything else is an error. Last, ``--ussd-phones`` run register + book journeys
(ussd_bench.py's) alone, then again while ``--clients`` poll findByDistrict: flat out, and
at ``--api-rate`` requests/s in all (what polling partner apps offer, each address held
to ``public_api.rate_limit_per_source``).

    .venv/bin/python bench/availability_api_bench.py
    .venv/bin/python bench/availability_api_bench.py --clients 64 --seconds 20 --json
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from ussd_bench import (  # noqa: E402
    REQUEST_TIMEOUT_S,
    Callers,
    Stats,
    add_stack_options,
    journey,
    load,
    measure,
    start_stack,
    summarize,
)

PATNA_DISTRICT_ID = 114  # gateway/geo/data/districts.csv


def targets(day: str, etag: str) -> dict[str, tuple[str, dict[str, str], int, str | None]]:
    """name -> (path, headers, expected status, text the body must contain)."""
    public = "/api/v1/public/sessions"
    return {
        "healthz (baseline)": ("/healthz", {}, 200, '"status":"ok"'),
        "findByPin": (f"{public}/findByPin?pincode=800020&date={day}", {}, 200,
                      '"name":"UPHC Kankarbagh"'),
        "findByDistrict": (f"{public}/findByDistrict?district_id={PATNA_DISTRICT_ID}"
                           f"&date={day}", {}, 200, '"district_name":"Patna"'),
        "calendarByDistrict": (f"{public}/calendarByDistrict?district_id={PATNA_DISTRICT_ID}"
                               f"&date={day}", {}, 200, '"name":"PMCH Patna"'),
        "findByPin 304": (f"{public}/findByPin?pincode=800020&date={day}",
                          {"If-None-Match": etag}, 304, None),
    }


async def get(http: aiohttp.ClientSession, url: str, headers: dict[str, str], status: int,
              must: str | None, stats: Stats) -> None:
    """GET once; the latency counts (within the window) only when the answer checks out."""
    began = time.perf_counter()
    try:
        async with http.get(url, headers=headers) as reply:
            body = await reply.text()
    except (TimeoutError, aiohttp.ClientError) as exc:
        stats.error("transport", repr(exc))
        await asyncio.sleep(0.1)
        return
    now = time.perf_counter()
    if now > stats.deadline:
        return
    if reply.status != status:
        stats.error(f"http {reply.status}", body)
    elif must is not None and must.replace(" ", "") not in body.replace(" ", ""):
        stats.error("unexpected body", body)
    elif must is None and body:
        stats.error("body on a 304", body)
    elif now >= stats.window_start:
        stats.latencies.append(now - began)


def etag_of(base: str, path: str) -> str:
    import urllib.request

    with urllib.request.urlopen(base + path, timeout=REQUEST_TIMEOUT_S) as reply:
        return reply.headers["ETag"]


def api_rates(server, args, day: str) -> dict[str, dict]:
    """One load run per target; every figure beside the baseline's req/s."""
    etag = etag_of(server.base, targets(day, "")["findByPin"][0])
    results = {}
    for name, (path, headers, status, must) in targets(day, etag).items():
        url = server.base + path
        results[name] = measure(server, args.clients, args, lambda http, st, u=url, h=headers,
                                s=status, m=must: get(http, u, h, s, m, st))
    base = max(results["healthz (baseline)"]["requests_per_s"], 0.1)
    for result in results.values():
        result["vs_baseline"] = round(result["requests_per_s"] / base, 2)
    return results


async def _both(args, ussd_round, api_round):
    return await asyncio.gather(load(args.ussd_phones, args.warmup, args.seconds, ussd_round),
                                load(args.clients, args.warmup, args.seconds, api_round))


def ussd_impact(server, args, day: str) -> dict[str, dict]:
    """USSD journeys alone, then beside ``--clients`` polling findByDistrict flat out, then
    at ``--api-rate`` requests/s."""
    from gateway.registry.demo_data import DEMO_CENTERS

    callers = Callers([row[3] for row in DEMO_CENTERS])
    ussd_url = server.base + "/ussd/africastalking"
    path, headers, status, must = targets(day, "")["findByDistrict"]

    def ussd_round(http, stats):
        return journey(http, ussd_url, callers, stats)

    def api_round(http, stats, pause=0.0):
        async def once():
            await get(http, server.base + path, headers, status, must, stats)
            if pause:
                await asyncio.sleep(pause)
        return once()

    alone = measure(server, args.ussd_phones, args, ussd_round)
    rows = {"ussd alone": alone}
    paced = functools.partial(api_round, pause=args.clients / args.api_rate)
    for label, round_ in (("flat out", api_round), (f"{args.api_rate:g}/s", paced)):
        ussd, api = asyncio.run(_both(args, ussd_round, round_))
        rows[f"ussd, API {label}"] = summarize(ussd, args.seconds)
        rows[f"API {label}"] = summarize(api, args.seconds)
    return rows


def print_table(title: str, rows: dict[str, dict]) -> None:
    print(f"\n{title}\n{'':24} {'req/s':>8} {'x base':>6} {'p50':>6} {'p99':>6} {'errors':>6}")
    for name, r in rows.items():
        print(f"{name:24} {r['requests_per_s']:>8.1f} {r.get('vs_baseline', ''):>6} "
              f"{r['p50_ms']:>6.1f} {r['p99_ms']:>6.1f} {r['errors']:>6}"
              + (f"  first: {r['first_error']}" if r["first_error"] else ""))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clients", type=int, default=32, help="concurrent API clients")
    parser.add_argument("--ussd-phones", type=int, default=8,
                        help="concurrent USSD callers in the impact runs (0: skip them)")
    parser.add_argument("--api-rate", type=float, default=100.0,
                        help="requests/s of the paced API load beside the USSD callers")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured s per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured s per run")
    add_stack_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    day = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date().strftime("%d-%m-%Y")
    with contextlib.ExitStack() as stack:
        config = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "config.yaml"
        config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8")
                          + "\npublic_api:\n  rate_limit_per_source: 100000000/minute\n",
                          encoding="utf-8")
        os.environ["VAXGATE_CONFIG"] = str(config)  # the gateway's children read it
        servers = start_stack(stack, args, minimal=False)
        results = {"api": api_rates(servers["gateway"], args, day)}
        if args.ussd_phones:
            results["ussd"] = ussd_impact(servers["gateway"], args, day)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print_table(f"public API, {args.clients} clients, {args.seconds:.0f} s each "
                "(x base: req/s over /healthz's in this run)", results["api"])
    if "ussd" in results:
        print_table(f"USSD steps, {args.ussd_phones} phones, alone and beside {args.clients} "
                    "API clients (flat out, then paced)", results["ussd"])
    print("latencies in ms; every counted answer was checked (status and content)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
