"""Fault c: the database unreachable for 10 s — SQLite write-locked, PostgreSQL cut off.

With SQLite (the embedded deployment) the realistic outage is another process holding the
write lock: a bulk import, a VACUUM or a hung maintenance script that ran ``BEGIN
EXCLUSIVE``. Readers go on (WAL), every writer waits on the lock. Moving the file away is
not realistic (open connections keep the old inode and would write into a file nobody sees)
and ``locking_mode=EXCLUSIVE`` cannot be taken while the gateway has the database open. So a
helper process holds ``BEGIN EXCLUSIVE`` for 10 s. A web request gives up after
``ussd.step_budget_seconds`` (2 s) and the caller gets the "try again" END (answers kept);
the OTP API answers 503; workers wait (30 s busy timeout) and carry on. Afterwards nothing
is half-written: no person without their registration event, no appointment without its
confirmation SMS and upstream event, no slot counter off by one.

With PostgreSQL the outage is a network partition: a TCP proxy between the gateway and the
server stops passing bytes for 10 s (connections stay open, nothing answers), which no
server-side ``statement_timeout`` can notice. The client-side deadline
(``gateway/storage/pg_deadline.py``) must end each USSD step within its budget. A COMMIT
held in the proxy may still land after the caller was told "try again": then the booking
exists although it was not acknowledged, which is not a loss (My appointments shows it).
Runs when a PostgreSQL server answers at ``FAULTS_POSTGRES_URL`` (default: the local one).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine

from .phones import CLIENT_TIMEOUT_S, Phones
from .reconcile import reconcile, settle

pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]
OUTAGE_S = 10
HOLD_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


def test_database_locked_for_10_s_answers_try_again_and_half_writes_nothing(
        make_stack, report):
    stack = make_stack()
    path = stack.database_url.removeprefix("sqlite:///")

    def outage() -> None:
        locker = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, path, str(OUTAGE_S)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert locker.stdout.readline().strip() == "locked"
            locker.wait(timeout=OUTAGE_S + 20)
        finally:
            locker.kill()
            locker.wait()

    # readers go on under SQLite's write lock: even a redial during the outage gets a menu
    _survives(stack, outage, "database write-locked 10 s", scenario=3, report=report,
              menus_while_down=True)


POSTGRES_URL = os.environ.get("FAULTS_POSTGRES_URL",
                              "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _postgres_answers() -> bool:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            return True
    except Exception:  # noqa: BLE001 - any failure means: no server to test against
        return False
    finally:
        engine.dispose()


@pytest.mark.skipif(not _postgres_answers(),
                    reason=f"no PostgreSQL server answers at {POSTGRES_URL} "
                           "(set FAULTS_POSTGRES_URL)")
def test_postgres_cut_off_for_10_s_answers_try_again_and_half_writes_nothing(
        make_stack, report):
    stack = make_stack(postgres_url=POSTGRES_URL)

    def outage() -> None:
        stack.proxy.pause()
        time.sleep(OUTAGE_S)
        stack.proxy.resume()

    # nothing answers: a redial during the cut gets "try again", after it a menu
    _survives(stack, outage, "PostgreSQL cut off 10 s", scenario=7, report=report,
              menus_while_down=False)


def _survives(stack, outage, fault: str, scenario: int, report,
              menus_while_down: bool) -> None:
    """Phones book through ``outage``; then every acknowledged item exists once."""
    with Phones(stack.url, scenario=scenario, callers=4, otp=1) as phones:
        phones.wait_for("booking", 3, timeout=30)
        outage()
        recovered = time.time()
        phones.wait_for("booking", 3, timeout=40)
    traffic = phones.traffic
    assert settle(stack.db, phones.prefix, timeout=60) == []
    result = reconcile(fault, stack.db, traffic, stack.fake, stack.upstream, phones.prefix)
    try_again = sum(n for text, n in traffic.endings.items() if "try again" in text.lower()
                    or "dial again" in text.lower())
    slowest = traffic.slowest_s
    # each blocked step gives up after 2 s; a client also waits for one of 2 web workers
    result.note = (f"{try_again} USSD steps answered 'try again'; {traffic.statuses[503]} OTP "
                   f"requests 503; slowest answer USSD {slowest['ussd']:.1f} s, OTP "
                   f"{slowest.get('otp', 0):.1f} s (2 s budget + queueing for a worker)")
    report(result)
    assert try_again > 0, traffic.endings
    assert traffic.statuses[0] == 0, f"a step got no answer within {CLIENT_TIMEOUT_S} s"
    assert traffic.server_errors() == 0, (traffic.statuses, stack.web.errors())
    assert traffic.menus_on_redial(since=0 if menus_while_down else recovered), traffic.probes
    assert result.lost == [] and result.duplicated == [], (result.lost, result.duplicated)
    assert result.half_written == [], result.half_written
