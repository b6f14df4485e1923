"""PgBouncer in transaction mode is a supported deployment: the booking race through a real
local pgbouncer (Debian's package) books exactly the places there are, with fewer server
connections than racers. Runs in the PostgreSQL pass (TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import sqlalchemy
from sqlalchemy import select
from sqlalchemy.engine import make_url

from gateway import create_app
from gateway.storage import Appointment, Database
from tests.conftest import UssdPhone
from tests.registry.test_booking_race import assert_booked_exactly, race
from tests.ussd_menus.test_ussd_journeys import ENGLISH, REFERENCE, book_first_choices, register

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SERVER_CONNECTIONS = 4  # pgbouncer's pool per database: 50 racers share 4 server connections

pytestmark = [
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="pgbouncer pools PostgreSQL: runs in the PostgreSQL pass "
                              "(TEST_DATABASE_URL)"),
    pytest.mark.skipif(not os.path.exists(PGBOUNCER),
                       reason="pgbouncer is not installed (make pgbouncer-deps installs "
                              "Debian's package)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pgbouncer_url(database_url, tmp_path_factory) -> Iterator[str]:
    """``database_url`` through a pgbouncer in transaction mode on a free loopback port."""
    server, folder, port = make_url(database_url), tmp_path_factory.mktemp("pgbouncer"), \
        _free_port()
    (folder / "users.txt").write_text(f'"{server.username}" "{server.password or ""}"\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n{server.database} = host={server.host} port={server.port or 5432} "
        f"dbname={server.database}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = {'plain' if server.password else 'trust'}\n"
        f"auth_file = {folder / 'users.txt'}\npool_mode = transaction\n"
        f"default_pool_size = {SERVER_CONNECTIONS}\nmax_client_conn = 500\n"
        # the gateway's libpq options (statement_timeout...): set them on the role instead
        "ignore_startup_parameters = extra_float_digits,options\n")
    folder.chmod(0o755)  # pgbouncer refuses to run as root: it drops to nobody
    for path in folder.iterdir():
        path.chmod(0o644)
    process = subprocess.Popen([PGBOUNCER, "-u", "nobody", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = server.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    try:
        _wait_for(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen, within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    while True:
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return
        except sqlalchemy.exc.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.poll() is not None else ""
                raise RuntimeError(f"pgbouncer did not answer: {output[-1500:]}") from None
            time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("place_last", [False, True], ids=["place-first", "place-last"])
def test_the_booking_race_through_pgbouncer_in_transaction_mode_never_overbooks(
        db, pgbouncer_url, place_last):
    outcomes, slot_id = race(Database(pgbouncer_url), pgbouncer_url, last=place_last)
    assert_booked_exactly(db, outcomes, slot_id)


@pytest.mark.usefixtures("demo_centers")
def test_a_ussd_journey_registers_and_books_through_pgbouncer(settings, db, redis_client,
                                                             pgbouncer_url):
    app = create_app(settings.model_copy(update={"database_url": pgbouncer_url}))
    phone = UssdPhone(app.test_client(), phone="+919812399999")
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    phone.send("00")
    reference = REFERENCE.search(book_first_choices(phone)).group(1)
    with db.read() as session:
        assert session.scalar(select(Appointment.reference)) == reference
