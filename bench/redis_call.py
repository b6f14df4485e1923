"""CPU per call of the session store's step scripts: redis-py's ``Script`` beside
``gateway/infra/lean_script.LeanScript``, alternating, in one run, on a private redis-server.

Each call is the USSD step's own ``begin_step`` script with a step's keys and arguments
(a rate count, a lock, a record to read); every reply is checked (``ok`` with the record)
and the lock is freed between calls by the ``end_step`` script, called the same way (a
pair of calls per round, as a mid-journey step makes). Prints µs of this process's CPU per
call (user + system, so the socket's system calls count) for each, per round and as the
median.

    .venv/bin/python bench/redis_call.py --calls 20000 --rounds 5
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.infra.embedded_redis import EmbeddedRedis  # noqa: E402
from gateway.infra.lean_script import LeanScript  # noqa: E402
from gateway.infra.redis_clients import connect_redis  # noqa: E402
from gateway.sessions.store import _BEGIN_STEP, _END_STEP, LOCK_MS  # noqa: E402

PHONE = "+919812345678"
KEY = f"vaxgate:ussd:{{{PHONE}}}:session:bench"
BEGIN_KEYS = [f"vaxgate:ussd:{{{PHONE}}}:rate", f"{KEY}:lock", KEY,
              f"vaxgate:ussd:{{{PHONE}}}:resume"]
END_KEYS = [KEY, f"vaxgate:ussd:{{{PHONE}}}:resume", f"{KEY}:lock"]
RECORD = '{"state":{"flow":"register","node":"year","vars":{"lang":"en"}},"page":0}'


def one_round(begin, end, calls: int) -> float:
    """µs of CPU per call over ``calls`` begin/end pairs; every begin's reply checked."""
    started = time.process_time()
    for n in range(calls // 2):
        token = f"{n:016x}"
        reply = begin(keys=BEGIN_KEYS, args=[0, 60, token, LOCK_MS])
        if reply[0] != b"ok" or reply[1] != RECORD.encode():
            raise SystemExit(f"unexpected reply to begin_step: {reply!r}")
        end(keys=END_KEYS, args=[RECORD, 600, 0, token])
    return (time.process_time() - started) / (calls // 2 * 2) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20000, help="calls per round and kind")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vaxgate-redis-call-") as folder:
        server = EmbeddedRedis(Path(folder) / "redis")
        try:
            client = connect_redis(server.start().url)
            client.set(KEY, RECORD)
            kinds = {"redis-py Script": (client.register_script(_BEGIN_STEP),
                                         client.register_script(_END_STEP)),
                     "LeanScript": (LeanScript(client, _BEGIN_STEP),
                                    LeanScript(client, _END_STEP))}
            for begin, end in kinds.values():
                one_round(begin, end, 1000)  # warm: scripts loaded, connection made
            figures: dict[str, list[float]] = {name: [] for name in kinds}
            for _ in range(args.rounds):
                for name, (begin, end) in kinds.items():
                    figures[name].append(one_round(begin, end, args.calls))
        finally:
            server.stop()
    print(f"µs of CPU per script call (this process; {args.calls} calls a round, "
          f"{args.rounds} rounds alternating)")
    for name, values in figures.items():
        rounds = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {name:<16} median {statistics.median(values):5.1f}   rounds: {rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
