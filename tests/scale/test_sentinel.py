"""Redis behind Sentinel (``redis+sentinel://``): the gateway and a worker find the master
through a real Sentinel, with the master's password."""
from __future__ import annotations

import pytest

from gateway import create_app
from gateway.infra.redis_urls import redis_from_url

from .conftest import book_on_ussd, scale_settings, vaxgate, worker_env


@pytest.mark.usefixtures("demo_centers", "provider_env")
@pytest.mark.timeout(90)
def test_a_journey_and_a_worker_burst_work_through_sentinel(settings, db, fake, sentinel_url,
                                                            secured_server, tmp_path):
    redis_from_url(secured_server.url).flushdb()
    behind = scale_settings(settings, fake.url, redis_url=sentinel_url)
    client = create_app(behind).test_client()
    assert client.get("/readyz").status_code == 200
    reference = book_on_ussd(client, "+919812345603")
    assert redis_from_url(secured_server.url).keys("vaxgate:ussd:*")  # on the master

    done = vaxgate("worker", "--burst", env=worker_env(behind, tmp_path,
                                                       VAXGATE_REDIS_URL=sentinel_url))

    assert done.returncode == 0, done.stderr[-2000:]
    [sms] = fake.twilio.received
    assert reference in sms["form"]["Body"]


@pytest.mark.parametrize("url", [
    "redis+sentinel://127.0.0.1:26379",  # no service
    "redis+sentinel://127.0.0.1:26379/a/0/extra",
    "redis+sentinel://:26379/vaxgate",  # no host
])
def test_a_malformed_sentinel_url_says_how_to_write_one(url):
    with pytest.raises(ValueError, match="redis\\+sentinel://"):
        redis_from_url(url)


def test_a_malformed_redis_url_stops_the_worker_naming_the_setting(settings, tmp_path):
    env = worker_env(settings, tmp_path, VAXGATE_REDIS_URL="redis://127.0.0.1:1/0",
                     VAXGATE_QUEUE_REDIS_URL="redis+sentinel://127.0.0.1:26379")

    done = vaxgate("worker", "--burst", env=env)

    assert done.returncode == 1
    assert "; queue_redis_url: write a Sentinel URL as redis+sentinel://" in done.stderr
    assert "Redis does not answer: redis_url (redis://127.0.0.1:1/0): ConnectionError" \
        in done.stderr
    assert "Traceback" not in done.stderr
