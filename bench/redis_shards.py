"""``ussd_bench.py --redis-shards 1,3``: the journey bench with the sessions on one Redis, then
on a Redis Cluster of N masters (no replicas), in the same run; steps/s, and each session
shard's Redis CPU (``INFO cpu``) per step. RQ queues stay on a Redis of their own; every
Redis listens on loopback TCP, so one Redis and the cluster pay the same transport.

Steps, repeats and errors are counted as in ussd_bench.py (each answer's screen checked);
the gateway's and each shard's CPU are taken over the measured window and divided by its
steps; the ratios are to the minimal endpoint under the same flags and under plain sync
gunicorn, measured right after, each beside the gateway's own p99.

A shard count of 1 is a plain redis-server; 3 or more is a cluster made by
``redis-cli --cluster create`` (tests/scale/redis_cluster.py); 2 is refused (a cluster
needs 3 masters).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import socket
import tempfile
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_redis(stack: contextlib.ExitStack, folder: Path,
                  shards: int) -> tuple[str, list[redis.Redis]]:
    """(session URL, a client per master) for ``shards`` masters; stopped by ``stack``."""
    if shards == 1:
        from gateway.infra.embedded_redis import EmbeddedRedis

        server = EmbeddedRedis(folder / "sessions", port=_free_port())
        stack.callback(server.stop)
        url = server.start().url
        return url, [redis.Redis.from_url(url)]
    from tests.scale.redis_cluster import LocalCluster

    cluster = LocalCluster(folder, masters=shards, replicas=0)
    stack.callback(cluster.stop)
    cluster.start()
    return cluster.url, [redis.Redis(port=port) for port in cluster.ports]


def redis_cpu(nodes: list[redis.Redis]) -> list[float]:
    """User+system CPU seconds of each Redis so far."""
    return [float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
            for info in (node.info("cpu") for node in nodes)]


def run_shards(args: argparse.Namespace, callers, bench) -> list[dict[str, Any]]:
    """One row per shard count: the journeys at the first --phones level, then the minimal
    endpoint; ``bench`` is the ussd_bench module (its stack and load helpers)."""
    from gateway.infra.embedded_redis import EmbeddedRedis

    rows, phones = [], args.levels[0]
    for shards in args.redis_shards:
        with contextlib.ExitStack() as stack:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="shards-")))
            queue = EmbeddedRedis(folder / "queue", port=_free_port())
            stack.callback(queue.stop)
            run_args = copy.copy(args)
            run_args.redis_url = queue.start().url
            url, nodes = session_redis(stack, folder, shards)
            servers = bench.start_stack(stack, run_args, session_url=url)
            ussd = servers["gateway"].base + "/ussd/africastalking"
            callers.stagger(phones)
            gateway = bench.measure(servers["gateway"], phones, args, lambda http, st, u=ussd: (
                bench.journey(http, u, callers, st, args.think, args.repeat_share)),
                samples={"redis": lambda n=nodes: redis_cpu(n)})
            before, after = gateway.pop("window_samples")["redis"]
            used = [(a - b) / args.seconds for a, b in zip(after, before, strict=True)]
            baselines = {name: bench.measure(servers[name], phones, args, lambda http, st, u=(
                servers[name].base + "/ussd/africastalking"): bench.hello(http, u, st, args.think))
                for name in ("minimal", "minimal_sync")}
        steps_per_s = max(gateway["steps_per_s"], 0.1)
        rows.append({"shards": shards, "phones": phones, "gateway": gateway, **baselines,
                     "ratio": round(steps_per_s / max(baselines["minimal"]["steps_per_s"],
                                                      0.1), 2),
                     "ratio_sync": round(steps_per_s / max(
                         baselines["minimal_sync"]["steps_per_s"], 0.1), 2),
                     "redis_cpu_us_per_step": [round(1e6 * u / steps_per_s, 1) for u in used],
                     "redis_cpu_pct": [round(100 * u, 1) for u in used]})
    return rows


def print_shards(rows: list[dict[str, Any]], bench) -> None:
    """One line per shard count."""
    header = (f"{'shards':>6} {'phones':>6} {'steps/s':>8} {'p99':>6} {'errors':>6} "
              f"{'cpu ms':>6} {'repeats':>7} "
              f"{'min req/s':>9} {'min p99':>7} {'ratio':>5} {'sync':>5} | Redis CPU per shard: "
              "us/step (% of a core)")
    print(header + "\n" + "-" * len(header))
    for r in rows:
        g, m = r["gateway"], r["minimal"]
        shares = "  ".join(f"{us:.0f} ({pct:.0f}%)" for us, pct in
                           zip(r["redis_cpu_us_per_step"], r["redis_cpu_pct"], strict=True))
        print(f"{r['shards']:>6} {r['phones']:>6} {g['requests_per_s']:>8.1f} "
              f"{g['p99_ms']:>6.1f} {g['errors']:>6} "
              f"{g.get('server_cpu_ms_per_step', '-'):>6} {g['repeats']:>7} "
              f"{m['steps_per_s']:>9.1f} {m['p99_ms']:>7.1f} {r['ratio']:>5.2f} "
              f"{r['ratio_sync']:>5.2f} | {shares}")
    bench.print_first_errors(rows, lambda r: f"{r['shards']} shards")
    print("steps = answers with the expected screen (repeats, errors apart); cpu ms = gateway "
          "CPU per step; Redis CPU per session shard over the measured window; ratio = gateway "
          "steps/s / minimal endpoint req/s under the same flags, sync = under plain sync "
          "gunicorn, each beside this row's p99")
