"""The benchmarks still run: each bench/ script with tiny numbers, checking what it prints.

No timing is asserted (figures come from real runs on a quiet machine, docs/performance.md):
only that every script starts and stops its stack, completes, prints its table, and that
the correctness figures among them hold (no errors, overbookings, 5xx or cut-off callers;
every answer's content is checked by the bench itself, test_bench_screens.py shows how).
Each bench starts its own redis-server, SQLite database and gunicorn, on 127.0.0.1.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--workers", "1", "--threads", "2"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")),
                       reason="the benches bring their own SQLite; one pass is enough"),
]


BENCHES = {
    "ussd": ["ussd_bench.py", "--curve", "2,4", "--seconds", "1", "--warmup", "0",
             "--rounds", "2", "--repeat-share", "0.3"],
    "contention": ["booking_contention.py", "--phones", "30", "--places", "5",
                   "--concurrency", "10", "--direct-processes", "2", "--direct-places", "8",
                   "--repeat-share", "0.3"],
    "ivr": ["ivr_bench.py", "--phones", "2", "--seconds", "1", "--warmup", "0"],
    "overload": ["overload.py", "--seconds", "4", "--callers", "8", "--ceiling", "2",
                 "--think", "0.05"],
}
if shutil.which("redis-cli") and shutil.which("redis-server"):  # the cluster's tools
    BENCHES["shards"] = ["ussd_bench.py", "--phones", "2", "--seconds", "1", "--warmup", "0",
                         "--redis-shards", "1,3"]


@pytest.fixture(scope="module")
def benches() -> Iterator[dict[str, subprocess.Popen]]:
    """All three started at once (each with its own Redis and database), to keep this short."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VAXGATE_REDIS_URL", "REDIS_URL", "VAXGATE_CONFIG", "TWILIO_AUTH_TOKEN")}
    running = {name: subprocess.Popen([sys.executable, str(ROOT / "bench" / script), *args,
                                       *SMALL], cwd=ROOT, env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for name, (script, *args) in BENCHES.items()}
    yield running
    for process in running.values():
        if process.poll() is None:
            process.terminate()  # the benches stop their servers on SIGTERM
            process.communicate(timeout=30)


def output(benches: dict[str, subprocess.Popen], name: str) -> str:
    """What the bench printed, once it has finished with exit status 0."""
    out, err = benches[name].communicate(timeout=150)
    assert benches[name].returncode == 0, out + err[-3000:]
    return out


def test_ussd_bench_prints_the_curve_with_its_knee_line(benches):
    out = output(benches, "ussd")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:4] == [
        "phones", "journeys/s", "steps/s", "repeats"])
    assert lines[header].split()[-2:] == ["ratio", "sync"], out  # to both baselines
    rows = [line.split() for line in lines[header + 2:header + 4]]
    assert [row[0] for row in rows] == ["2", "4"]
    assert all(row[7] == "0" for row in rows), out  # errors column
    assert sum(int(row[3]) for row in rows) > 0, out  # repeats sent, counted apart
    assert any(line.startswith("knee: ") for line in lines), out
    assert sum("2 rounds (gateway, minimal, sync each)" in line for line in lines) == 2, out
    rounds = [line for line in lines if line.strip().startswith("round ")]
    assert len(rounds) == 4 and all("with its p99" in line for line in rounds), out
    assert sum(line.endswith("<- row") for line in rounds) == 2, out


def test_redis_call_times_both_client_paths_on_checked_replies():
    """bench/redis_call.py: its own redis-server, every reply checked, nothing timed."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "redis_call.py"),
                           "--calls", "200", "--rounds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    names = [line.split("median")[0].strip() for line in done.stdout.splitlines()[1:]]
    assert names == ["redis-py Script", "LeanScript"], done.stdout


def test_ussd_bench_measures_one_redis_and_a_three_shard_cluster_in_one_run(benches):
    if "shards" not in benches:
        pytest.skip("redis-server/redis-cli are not installed (make redis-deps)")
    out = output(benches, "shards")
    rows = {line.split()[0]: line for line in out.splitlines()[2:4]}
    assert set(rows) == {"1", "3"}, out
    assert all(row.split()[4] == "0" for row in rows.values()), out  # errors column
    assert lines_with(out, "ratio", "sync"), out
    assert [rows[n].split("|")[1].count("%)") for n in ("1", "3")] == [1, 3], out


def test_booking_contention_books_every_place_once(benches):
    out = output(benches, "contention")
    assert "overbookings" in out.splitlines()[1]
    assert out.splitlines()[1].split()[8:12] == ["steps", "steps/s", "repeats", "errors"]
    row = out.splitlines()[3].split()
    assert row[0] == "5" and row[-1] == "0", out  # 5 bookings for 5 places, 0 overbookings
    assert row[8] == "0" and int(row[7]) > 0, out  # no errors; repeats sent, counted apart
    assert "'Booked!' answers match the rows" in out and "overbookings 0" in out
    direct = next(line for line in out.splitlines() if line.startswith("without HTTP"))
    assert "8 bookings" in direct and "overbookings 0" in direct, out


def test_step_profile_times_every_step_and_profiles_by_package():
    """bench/step_profile.py runs in-process (its own Redis and SQLite), nothing timed."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "step_profile.py"),
                           "--journeys", "2", "--warmup", "1", "--steps", "14", "--top", "5",
                           "--repeat-share", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("VAXGATE_REDIS_URL", "VAXGATE_CONFIG")})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[1:16]] == [str(n) for n in range(15)]
    assert "confirm booking" in lines[15] and "Own CPU by package" in done.stdout
    assert any(line.split()[:2] == ["repeated", "request"] for line in lines), done.stdout
    assert any(line.split()[0] == "SQLAlchemy" for line in lines if line.strip())


def test_overload_bench_queues_callers_without_cutting_anyone_off(benches):
    out = output(benches, "overload")
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["dials", "admitted", "queued"]
    row = lines[3].split()
    assert int(row[2]) > 0, out  # 8 callers for 2 places: some were queued
    assert row[-2:] == ["0", "0"], out  # no 5xx, nobody cut off
    assert "passes handed out in queue order: yes" in out


def test_sql_overhead_times_each_layer_of_a_read_and_a_registration():
    """bench/sql_overhead.py runs in-process on its own SQLite file, nothing timed."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "sql_overhead.py"),
                           "--operations", "20", "--rounds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "VAXGATE_CONFIG"})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    names = [line.rsplit(None, 1)[0] for line in done.stdout.splitlines()[2:]]
    assert names == ["read: sqlite3", "read: Core connection", "read: ORM session",
                     "register: sqlite3", "register: Core on the session",
                     "register: ORM unit of work"], done.stdout


def test_sms_bench_checks_every_message_at_the_fake_and_prints_its_ceiling():
    """bench/sms_bench.py --quick: its own Redis, SQLite, fake provider and 2 workers."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "sms_bench.py"), "--quick",
                           "--otp-rate", "10"], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={k: v for k, v in os.environ.items()
                                            if k not in ("VAXGATE_REDIS_URL", "VAXGATE_CONFIG")})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ceiling: 32 threads on one requests.Session"), done.stdout
    for scenario in ("healthy:", "primary failing:"):
        row = next(line for line in lines if line.startswith(scenario))
        assert "'lost': 0, 'duplicated': 0" in row and "ratio to ceiling" in row, row
        assert "'otp_p95_s': None" not in row, row  # OTPs were sent during the drain


def test_availability_api_bench_checks_every_answer_beside_its_baseline():
    """bench/availability_api_bench.py: its own Redis, SQLite and gunicorn, tiny numbers."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "availability_api_bench.py"),
                           "--clients", "2", "--ussd-phones", "2", "--seconds", "1",
                           "--warmup", "0", *SMALL], cwd=ROOT, capture_output=True, text=True,
                          timeout=180, env={k: v for k, v in os.environ.items()
                                            if k not in ("VAXGATE_REDIS_URL", "VAXGATE_CONFIG")})
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    names = ("healthz (baseline)", "findByPin", "findByDistrict", "calendarByDistrict",
             "findByPin 304", "ussd alone", "ussd, API flat out", "ussd, API 100/s")
    rows = {line[:24].strip(): line[24:].split() for line in done.stdout.splitlines()
            if line[:24].strip() in names}
    assert len(rows) == len(names), done.stdout
    assert all(row[-1] == "0" for row in rows.values()), done.stdout  # errors column


def test_ivr_bench_checks_every_spoken_answer(benches):
    out = output(benches, "ivr")
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["calls", "calls/s", "steps/s"], out
    assert lines[3].split()[6] == "0", out  # errors column


def lines_with(out: str, *words: str) -> list[str]:
    """The lines of ``out`` that have every one of ``words``."""
    return [line for line in out.splitlines() if all(w in line.split() for w in words)]


def test_step_instructions_runs_its_journeys_and_reads_callgrinds_count():
    """The journeys it counts answer as expected (without valgrind: CI's time is short), and
    the count is read from callgrind's own report."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "step_instructions.py"),
                           "--dry-run", "--steps", "0,4", "--journeys", "2", "--minimal", "5"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 x 2 journeys answered as expected" in done.stdout
    sys.path.insert(0, str(ROOT / "bench"))
    from step_instructions import collected

    assert collected("==1== Events    : Ir\n==1== Collected : 2480051\n==1== \n") == 2480051


def test_ussd_bench_runs_the_gateway_and_its_baseline_under_granian():
    """Last, once the module's benches have finished: the cluster bench picks its nodes'
    ports before starting them, and more servers starting at once make a port taken
    meanwhile likelier."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VAXGATE_REDIS_URL", "REDIS_URL", "VAXGATE_CONFIG", "TWILIO_AUTH_TOKEN")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "ussd_bench.py"), "--server",
                           "granian", "--phones", "2", "--seconds", "1", "--warmup", "0",
                           *SMALL], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=150)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    lines = out.splitlines()
    assert any(" 1 granian workers x 2 threads" in f" {line}" for line in lines), out
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["phones",
                                                                         "journeys/s"])
    row = lines[header + 2].split()
    assert row[0] == "2" and row[7] == "0", out  # 2 phones, no errors
