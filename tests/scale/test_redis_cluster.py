"""USSD sessions on a real Redis Cluster (3 masters, 3 replicas): journeys run through it with
the stock admission ceiling (8 shards), and survive one master failing over mid-journey."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import func, select

from gateway import create_app
from gateway.infra.redis_urls import redis_from_url
from gateway.sms import otp_codes
from gateway.storage import Appointment
from tests.conftest import UssdPhone
from tests.scale.redis_cluster import LocalCluster, missing_binaries
from tests.ussd_menus.test_ussd_journeys import BOOK, ENGLISH, REFERENCE, REGISTER, YES

pytestmark = pytest.mark.skipif(missing_binaries() is not None,
                                reason=missing_binaries() or "")
TRY_AGAIN = "dial again"
NAME, YEAR, GENDER, ID_TYPE, ID_DIGITS, PINCODE = "Sita Devi", "1948", "2", "1", "1234", "800020"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[LocalCluster]:
    nodes = LocalCluster(tmp_path_factory.mktemp("cluster")).start()
    yield nodes
    nodes.stop()


@pytest.fixture
def cluster_app(cluster, settings, db, redis_client, demo_centers):
    """The gateway with sessions (and admission, at its stock ceiling) on the cluster and
    its RQ queues on the plain test Redis."""
    for port in cluster.live_ports():
        node = redis.Redis(port=port)
        if node.execute_command("ROLE")[0] == b"master":
            node.flushall()
    admission = settings.admission.model_copy(update={"max_active_sessions": 2000})
    return create_app(settings.model_copy(update={
        "session_redis_url": cluster.url, "queue_redis_url": settings.redis_url,
        "admission": admission}))


def _phones(app, count: int) -> list[UssdPhone]:
    return [UssdPhone(app.test_client(), phone=f"+91981234{n:04d}") for n in range(count)]


def _to_year_of_birth(phone: UssdPhone) -> str:
    """A new phone starts registering: the screen after the year of birth."""
    phone.dial()
    phone.send(ENGLISH, REGISTER, NAME)
    return phone.send(YEAR)


def _finish_registration_and_book(phone: UssdPhone) -> str:
    """From the screen after the gender: register, book; the booking's END screen."""
    phone.send(ID_TYPE, ID_DIGITS, PINCODE, YES)
    phone.send("00")
    return phone.send(BOOK, "1", "1", "1", "1", YES)


def _start_over_and_book(phone: UssdPhone) -> str:
    """A lost session: dial again (until the failover is over), register and book."""
    screen = phone.dial()
    for _ in range(3):
        if screen.startswith("CON "):
            break
        assert TRY_AGAIN in screen.lower(), screen
        screen = phone.dial()
    if "resume" in screen.lower() or "continue" in screen.lower():
        screen = phone.send("2")  # start afresh rather than resume
    phone.send(REGISTER, NAME, YEAR)
    phone.send(GENDER)
    return _finish_registration_and_book(phone)


def test_ussd_journeys_run_through_a_redis_cluster(cluster_app, cluster, db):
    phones = _phones(cluster_app, 4)
    for phone in phones:
        assert "gender" in _to_year_of_birth(phone).lower()
        phone.send(GENDER)
        assert REFERENCE.search(_finish_registration_and_book(phone))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 4
    masters = {cluster.master_of(f"{{{p.phone}}}")[0] for p in phones}
    assert len(masters) > 1  # the phones' sessions live on several shards


def test_a_master_failing_over_mid_journey_loses_no_session_elsewhere_and_no_booking(
        cluster_app, cluster, db):
    phones = _phones(cluster_app, 9)
    for phone in phones:
        assert "gender" in _to_year_of_birth(phone).lower()
    master, replica = cluster.master_of(f"{{{phones[0].phone}}}")
    on_failed = {p.phone for p in phones if cluster.master_of(f"{{{p.phone}}}")[0] == master}
    assert 0 < len(on_failed) < len(phones)

    cluster.kill(master)
    lost = next(p for p in phones if p.phone in on_failed)
    assert TRY_AGAIN in lost.post().lower()  # its shard is down: a polite END, no 500
    cluster.promote(replica)
    client = redis_from_url(cluster.url)
    for key in client.keys(f"*{{{lost.phone}}}*"):  # as if its session's writes had not
        client.delete(key)  # reached the replica before the master died

    continued = [phone.send(GENDER) for phone in phones]
    expected = next(s for p, s in zip(phones, continued, strict=True) if p.phone not in on_failed)
    references = []
    for phone, screen in zip(phones, continued, strict=True):
        if phone.phone not in on_failed:  # its shard never stopped: the session continues
            assert screen == expected and screen.startswith("CON ")
        ended = _finish_registration_and_book(phone) if screen == expected \
            else _start_over_and_book(phone)  # the replica may have had it, or not
        references.append(REFERENCE.search(ended).group(1))
    with db.read() as session:
        booked = session.scalars(select(Appointment.reference)).all()
    assert sorted(booked) == sorted(references) and len(set(booked)) == len(phones)


def test_a_cluster_url_is_read_and_a_queue_on_a_cluster_is_refused(cluster, settings):
    from gateway.config import ConfigError
    from gateway.infra.redis_clients import connect_role

    client = redis_from_url(cluster.url)
    assert client.ping() is True
    with pytest.raises(ConfigError, match="queue_redis_url.*one Redis"):
        connect_role(settings.model_copy(update={"queue_redis_url": cluster.url}), "queue")


def test_the_public_api_counts_and_caches_on_a_redis_cluster(cluster_app, cluster):
    """Its per-source counter and cached answer share one hash tag (``{public}``), so its
    script runs in one slot: answered, cached on the cluster, then a 304 for the same ETag."""
    client = cluster_app.test_client()
    first = client.get("/api/v1/public/location/states")
    again = client.get("/api/v1/public/location/states",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert first.status_code == 200 and len(first.get_json()["states"]) == 36
    assert again.status_code == 304
    cached = redis_from_url(cluster.url).keys("vaxgate:{public}:answer:*")
    assert cached, "the answer was not cached on the cluster"


def test_an_otp_is_requested_verified_once_and_limited_on_a_redis_cluster(
        cluster, settings, db, redis_client):
    """The OTP's state (a MULTI of one hash and its TTL, the sealed code, the per-phone
    cooldown and hourly counter, the verify script) lives in the session Redis: on a cluster
    every command and script keeps to one key's slot."""
    from gateway.sms.errors import OtpNotFound, OtpRateLimited
    from gateway.sms.otp import OtpService

    client = redis_from_url(cluster.url)
    service = OtpService(settings, db, client, queue_conn=redis_client)
    sent = service.request("+919812340001")
    code = otp_codes.unseal(client, settings.secret_key, sent.message_id)
    assert code is not None and client.ttl(service._key(sent.transaction_id)) > 0

    assert service.verify(sent.transaction_id, code, source="203.0.113.5") == "+919812340001"
    with pytest.raises(OtpNotFound):
        service.verify(sent.transaction_id, code)
    with pytest.raises(OtpRateLimited):  # the resend cooldown, counted on the cluster
        service.request("+919812340001")
