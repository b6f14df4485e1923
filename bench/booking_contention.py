"""Booking contention: thousands of phones race over USSD for the last places at one center.

One command, bounded in requests and time, on 127.0.0.1 only. It starts a redis-server, the
database (fresh SQLite, or ``--database-url``, e.g. PostgreSQL database ``vaxgate_bench``:
migrated, then a new "rush" center is added and the earlier runs' rush centers are closed)
and the gateway under gunicorn (or ``--server granian``), as bench/ussd_bench.py does. The
rush center gets slots tomorrow in three windows whose capacities are nearly all taken:
``--places`` remain. Each of ``--phones`` phones has one person registered there already
(registration is not what races), and books through the real USSD webhook, up to
``--concurrency`` at once:

    dial -> Book a slot -> the person -> first date -> first center -> first window -> confirm

("That time just filled up" -> the first window left -> confirm, up to 3 times). Every
answer's screen is checked (bench/ussd_screens.py): the expected one is a step; "No free
slots" (or only far centers) ends the phone's race as "no places left"; anything else (the
admission queue, busy, try again, rate limit, "Invalid choice.", a wrong screen) is an error
of its kind. ``--repeat-share`` sends some requests twice, as aggregators do after a
timeout; the repeat must get the same screen and is counted apart, never as a step.
Afterwards SQL is checked: appointments per slot against the places that were left, the
slots' ``booked`` counters against their capacity, and the phones' "Booked!" answers against
the rows. Printed: bookings, bookings/s over the race, the confirm step's p50/p99 (of that
race), steps, repeats and errors, overbookings (must be 0).

The full journey (register first) would add 10 steps per phone that do not contend; the
booking journey keeps the measured part the race itself, through the same HTTP interface.

    .venv/bin/python bench/booking_contention.py                        # 2000 phones, 300 places
    .venv/bin/python bench/booking_contention.py --database-url \\
        postgresql+psycopg2://postgres@127.0.0.1:5432/vaxgate_bench
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402 - comes with twilio, a gateway dependency
import ussd_screens  # noqa: E402
from ussd_bench import (  # noqa: E402
    SERVICE_CODE,
    Outcomes,
    add_stack_options,
    percentile,
    start_stack,
)

RUSH_PINCODE = "799001"  # Agartala: no demo center within booking.near_km, the rush one alone
WINDOWS = [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13)), (dt.time(14), dt.time(16))]
FULL_CAPACITY = 1000  # per slot; all but the remaining places count as already booked
MAX_RETRIES = 3
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Race(Outcomes):
    """What the phones saw."""

    confirm_latencies: list[float] = field(default_factory=list)
    booked_at: list[float] = field(default_factory=list)
    first_confirm: float = float("inf")
    requests: int = 0
    steps: int = 0  # answers with the expected screen
    repeats: int = 0


def seed(database_url: str, phones: int, places: int, run: int) -> dict[str, Any]:
    """The rush center, its nearly full slots, and one registered person per phone."""
    from sqlalchemy import select, update

    from gateway.geo.places import place_of
    from gateway.storage import Beneficiary, Center, Database, PhoneProfile, Slot

    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    shares = [places // len(WINDOWS) + (i < places % len(WINDOWS)) for i in range(len(WINDOWS))]
    numbers = [f"+9196{run:03d}{n:05d}" for n in range(phones)]
    database = Database(database_url)
    with database.write() as session:
        session.execute(update(Center).where(Center.code.startswith("RUSH"))
                        .values(active=False))  # an earlier run's center, on a kept database
        home = place_of(session, RUSH_PINCODE)
        center = Center(code=f"RUSH{run:03d}{random.randrange(10**6):06d}"[:16],
                        name="Rush Hour PHC", state=home.state, district=home.district,
                        pincode=RUSH_PINCODE, address="bench", latitude=home.latitude,
                        longitude=home.longitude)
        session.add(center)
        session.flush()
        slots = [Slot(center_id=center.id, date=today + dt.timedelta(days=1), start_time=start,
                      end_time=end, age_group="18-44", vaccine="COVISHIELD",
                      capacity=FULL_CAPACITY, booked=FULL_CAPACITY - share)
                 for (start, end), share in zip(WINDOWS, shares, strict=True)]
        session.add_all(slots)
        session.add_all(PhoneProfile(phone=number, language="en") for number in numbers)
        session.add_all(Beneficiary(phone=number, name="Rush Caller", name_key="rush caller",
                                    birth_year=today.year - 30, gender="F", id_type="voter",
                                    id_last4=number[-4:], pincode=RUSH_PINCODE)
                        for number in numbers)
        session.flush()
        left = {slot.id: share for slot, share in zip(slots, shares, strict=True)}
        people = [(b.id, b.phone) for b in session.scalars(
            select(Beneficiary).where(Beneficiary.phone.in_(numbers)))]
    database.dispose()
    return {"center_code": center.code, "left": left, "phones": numbers, "people": people}


def fresh_run(database_url: str) -> int:
    """A run number whose phones (and the next run's, for the direct race) no earlier run on
    this database used: runs accumulate on a kept PostgreSQL database."""
    from sqlalchemy import func, select

    from gateway.storage import Database, PhoneProfile

    database = Database(database_url)
    with database.read() as session:
        used = {int(p[5:8]) for p in session.scalars(select(PhoneProfile.phone).where(
            PhoneProfile.phone.like("+9196%"), func.length(PhoneProfile.phone) == 13))}
    database.dispose()
    free = [n for n in range(999) if n not in used and n + 1 not in used]
    if not free:
        raise SystemExit("every run number is taken on this database: use a fresh one")
    return random.choice(free)


BOOKING = [("main.menu",), ("booking.pick_person",), ("booking.pick_date",),
           ("booking.pick_center", "booking.pick_far_center"), ("booking.pick_window",),
           ("booking.confirm",)]  # the screens after the dial and each of "2", "1" x 4
CHOICES = ["2", "1", "1", "1", "1"]  # Book a slot, the person, date, center, window
AFTER_CONFIRM = ("booking.booked", "booking.window_taken")
NO_PLACES = {"booking.no_slots", "booking.pick_far_center"}  # the rush center has none left


async def book(http: aiohttp.ClientSession, url: str, phone: str, race: Race,
               repeat_share: float = 0.0) -> None:
    """One phone: dial, book the first choices, retry a filled-up window up to 3 times;
    each answer's screen is checked, the repeats of ``repeat_share`` counted apart."""
    form = {"sessionId": f"rush-{phone[1:]}", "serviceCode": SERVICE_CODE,
            "phoneNumber": phone, "networkCode": "40410"}
    answers: list[str] = []
    expected, position, confirming, retries = BOOKING[0], 0, False, 0
    while True:
        form["text"] = "*".join(answers)
        began = time.perf_counter()
        if confirming:
            race.first_confirm = min(race.first_confirm, began)
        try:
            async with http.post(url, data=form) as reply:
                body, status = await reply.text(), reply.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            race.add("error: transport", repr(exc))
            return
        race.requests += 1
        if status != 200:
            race.add(f"error: http {status}", body)
            return
        took = time.perf_counter() - began
        if ussd_screens.identify(body, expected) in NO_PLACES:
            race.add("no places left")
            return
        problem = ussd_screens.check(body, expected)
        if problem:
            race.add(f"error: {problem}", body)
            return
        race.steps += 1
        if confirming:  # the p99 of confirm steps, as ussd_bench's of steps: errors apart
            race.confirm_latencies.append(took)
        if body.startswith("END "):
            race.booked_at.append(time.perf_counter())
            race.add("booked")
            return
        if repeat_share and random.random() < repeat_share and not await _repeat(
                http, url, form, body, race):
            return
        if confirming:  # "That time just filled up": the first window left, confirm again
            retries += 1
            if retries > MAX_RETRIES:
                race.add(f"gave up (filled up {MAX_RETRIES} times)")
                return
            answers.append("1")
            expected, confirming = BOOKING[-1], False
        elif position < len(CHOICES):
            answers.append(CHOICES[position])
            position += 1
            expected = BOOKING[position]
        else:  # the confirm screen: yes
            answers.append("1")
            expected, confirming = AFTER_CONFIRM, True


async def _repeat(http: aiohttp.ClientSession, url: str, form: dict[str, str], body: str,
                  race: Race) -> bool:
    """Send ``form`` again; False (an error counted) unless the answer is ``body`` again."""
    try:
        async with http.post(url, data=form) as reply:
            again, status = await reply.text(), reply.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        race.add("error: transport", repr(exc))
        return False
    race.requests += 1
    if status != 200 or again != body:
        race.add("error: repeat differs", f"{status} {body!r} then {again!r}")
        return False
    race.repeats += 1
    return True


async def run_race(url: str, phones: list[str], concurrency: int,
                   repeat_share: float = 0.0) -> tuple[Race, float]:
    race = Race()
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)

    async def one(phone: str) -> None:
        async with gate:
            await book(http, url, phone, race, repeat_share)

    began = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(*(one(phone) for phone in phones))
    return race, time.perf_counter() - began


def direct_worker(database_url: str, people: list[tuple[int, str]], slot_ids: list[int],
                  barrier) -> tuple[int, int, float, float, float]:
    """One process booking through the confirm step's own code (``book_slot``: the place,
    the appointment, its SMS and upstream rows, one transaction), without HTTP: each person
    takes the first slot with a place. Returns (booked, refused as full, started at, last
    booking at, this process's CPU seconds for the race)."""
    from gateway.config import load_settings
    from gateway.registry.actions import RegistryActions
    from gateway.storage import Database

    actions = RegistryActions(Database(database_url), load_settings(), channel="ussd")
    booked = full = slot = 0
    barrier.wait()  # every process has imported the gateway: start together
    began = last = time.time()
    cpu = time.process_time()
    for beneficiary_id, phone in people:
        while slot < len(slot_ids):
            outcome = actions.book_slot({"beneficiary_id": str(beneficiary_id), "phone": phone,
                                         "slot_id": str(slot_ids[slot]), "lang": "en"}).outcome
            if outcome == "ok":
                booked, last = booked + 1, time.time()
                break
            full += 1
            slot += 1  # full (as this process sees it): try the next window
        if slot == len(slot_ids):
            break
    return booked, full, began, last, time.process_time() - cpu


def run_direct(database_url: str, seeded: dict[str, Any], processes: int) -> dict[str, Any]:
    """The same race straight against the database from ``processes`` processes."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    people, slot_ids = seeded["people"], sorted(seeded["left"])
    context = get_context("spawn")
    with context.Manager() as manager, \
            ProcessPoolExecutor(processes, mp_context=context) as pool:
        barrier = manager.Barrier(processes, timeout=120)
        server_cpu = postgres_cpu_seconds()
        done = list(pool.map(direct_worker, [database_url] * processes,
                             [people[i::processes] for i in range(processes)],
                             [slot_ids] * processes, [barrier] * processes))
        server_cpu = postgres_cpu_seconds() - server_cpu if server_cpu is not None else None
    booked = sum(d[0] for d in done)
    span = max(d[3] for d in done) - min(d[2] for d in done)
    per = 1000 / max(booked, 1)
    return {"processes": processes, "bookings": booked, "refused_full": sum(d[1] for d in done),
            "seconds": round(span, 2), "bookings_per_s": round(booked / span, 1) if span else 0,
            "client_cpu_ms_per_booking": round(sum(d[4] for d in done) * per, 2),
            "server_cpu_ms_per_booking": round(server_cpu * per, 2)
            if server_cpu is not None and database_url.startswith("postgresql") else None}


def postgres_cpu_seconds() -> float | None:
    """CPU used so far by every PostgreSQL process on this machine (Linux' /proc; None
    elsewhere): the database's own cost of the direct race, when it runs here."""
    if not os.path.isdir("/proc"):
        return None
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                line = stat.read()
        except OSError:
            continue
        if line[line.index("(") + 1:line.rindex(")")].startswith("postgres"):
            fields = line[line.rindex(")") + 2:].split()
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def check(database_url: str, seeded: dict[str, Any]) -> dict[str, int]:
    """Overbookings and lost updates, from SQL."""
    from sqlalchemy import func, select

    from gateway.storage import Appointment, Database, Slot

    left = seeded["left"]
    database = Database(database_url)
    with database.read() as session:
        rows = dict(session.execute(
            select(Appointment.slot_id, func.count()).where(
                Appointment.slot_id.in_(left), Appointment.status == "booked")
            .group_by(Appointment.slot_id)).all())
        slots = session.scalars(select(Slot).where(Slot.id.in_(left))).all()
    database.dispose()
    over = sum(max(0, rows.get(slot_id, 0) - places) for slot_id, places in left.items())
    over += sum(max(0, s.booked - s.capacity) for s in slots)
    counted = sum(s.booked - (s.capacity - left[s.id]) for s in slots)
    return {"appointments": sum(rows.values()), "overbookings": over,
            "counter_mismatch": abs(counted - sum(rows.values())),
            "places_left_after": sum(s.capacity - s.booked for s in slots)}


def report(args: argparse.Namespace, race: Race, wall: float, sql: dict[str, int]) -> dict:
    booked = len(race.booked_at)
    span = (max(race.booked_at) - race.first_confirm) if booked else 0.0
    latencies = sorted(race.confirm_latencies)
    return {"phones": args.phones, "places": args.places, "concurrency": args.concurrency,
            "database": (args.database_url or "sqlite").split(":")[0].split("+")[0],
            "server": args.server, "workers": args.workers, "threads": args.threads,
            "wall_s": round(wall, 1),
            "requests": race.requests, "steps": race.steps, "repeats": race.repeats,
            "errors": sum(n for k, n in race.counts.items() if k.startswith("error: ")),
            "requests_per_s": round(race.requests / wall, 1) if wall else 0.0,
            "steps_per_s": round(race.steps / wall, 1) if wall else 0.0,
            "bookings": booked, "race_s": round(span, 2),
            "bookings_per_s": round(booked / span, 1) if span else 0.0,
            "confirm_p50_ms": round(percentile(latencies, 50), 1),
            "confirm_p99_ms": round(percentile(latencies, 99), 1),
            "outcomes": race.counts, "first_error": race.first_problem, **sql,
            "booked_answers_match_rows": booked == sql["appointments"]}


def print_report(r: dict[str, Any]) -> None:
    print(f"{r['phones']} phones for {r['places']} places at one center, {r['concurrency']} "
          f"at a time; {r['database']}, {r['server']} {r['workers']} workers x {r['threads']} "
          "threads")
    header = (f"{'bookings':>8} {'race s':>7} {'bookings/s':>10} {'confirm p50':>11} "
              f"{'p99 ms':>7} {'steps':>6} {'steps/s':>7} {'repeats':>7} {'errors':>6} "
              f"{'wall s':>6} {'left':>5} | {'overbookings':>12}")
    print(header + "\n" + "-" * len(header))
    print(f"{r['bookings']:>8} {r['race_s']:>7.2f} {r['bookings_per_s']:>10.1f} "
          f"{r['confirm_p50_ms']:>11.1f} {r['confirm_p99_ms']:>7.1f} {r['steps']:>6} "
          f"{r['steps_per_s']:>7.1f} {r['repeats']:>7} {r['errors']:>6} {r['wall_s']:>6.1f} "
          f"{r['places_left_after']:>5} | {r['overbookings']:>12}")
    print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
          + f"; {r['steps']} steps (expected screens), {r['repeats']} repeats apart, "
          f"{r['requests']} requests in all")
    if r["first_error"]:
        print(f"first error: {r['first_error']}")
    direct = r.get("direct")
    if direct:
        places = direct["appointments"] + direct["places_left_after"]
        print(f"without HTTP, {direct['processes']} processes calling the confirm step's "
              f"book_slot for {r['phones']} people, {places} places: {direct['bookings']} "
              "bookings in "
              f"{direct['seconds']:.2f} s = {direct['bookings_per_s']:.0f} bookings/s, "
              f"{direct['refused_full']} refused as full, overbookings "
              f"{direct['overbookings']}, slot counters off by {direct['counter_mismatch']}")
        server = direct["server_cpu_ms_per_booking"]
        print(f"CPU per booking: {direct['client_cpu_ms_per_booking']:.2f} ms in the booking "
              f"processes" + (f", {server:.2f} ms in PostgreSQL" if server is not None else ""))
    print(f"SQL: {r['appointments']} active appointments on the rush slots; 'Booked!' answers "
          f"{'match' if r['booked_answers_match_rows'] else 'DO NOT match'} the rows; slot "
          f"counters off by {r['counter_mismatch']}; overbookings {r['overbookings']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--phones", type=int, default=2000, help="phones racing (1..20000)")
    parser.add_argument("--places", type=int, default=300, help="places left (1..3000)")
    parser.add_argument("--concurrency", type=int, default=200,
                        help="phones in a journey at once (1..1000)")
    parser.add_argument("--direct-processes", type=int, default=8, help="then the same "
                        "race without HTTP, from this many processes (0: skip)")
    parser.add_argument("--direct-places", type=int, default=1000,
                        help="places left for that race (1..3000)")
    parser.add_argument("--repeat-share", type=float, default=0.0,
                        help="chance that a phone sends a request again after an open "
                        "answer, as an aggregator does after a timeout: the answer must be "
                        "the same screen and counts as a repeat, never as a step")
    add_stack_options(parser)
    args = parser.parse_args(argv)
    if not (1 <= args.phones <= 20000 and 1 <= args.places <= 3000
            and 1 <= args.direct_places <= 3000 and 1 <= args.concurrency <= 1000
            and 0 <= args.direct_processes <= 32 and 0 <= args.repeat_share <= 0.5):
        parser.error("--phones 1..20000, --places and --direct-places 1..3000, "
                     "--concurrency 1..1000, --direct-processes 0..32, --repeat-share 0..0.5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop the servers
    with contextlib.ExitStack() as stack:
        servers = start_stack(stack, args, minimal=False)
        database_url = servers["gateway"].env["VAXGATE_DATABASE_URL"]
        run = fresh_run(database_url)
        seeded = seed(database_url, args.phones, args.places, run)
        race, wall = asyncio.run(run_race(servers["gateway"].base + "/ussd/africastalking",
                                          seeded["phones"], args.concurrency,
                                          args.repeat_share))
        result = report(args, race, wall, check(database_url, seeded))
        if args.direct_processes:
            direct = seed(database_url, args.phones, args.direct_places, (run + 1) % 1000)
            result["direct"] = run_direct(database_url, direct, args.direct_processes)
            result["direct"].update(check(database_url, direct))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)
    failed = result["overbookings"] or not result["booked_answers_match_rows"] \
        or result["counter_mismatch"] or result.get("direct", {}).get("overbookings") \
        or result["errors"]
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted; the servers were stopped")
