"""Attacks on one OTP transaction from many requests at once: the check, the count and the
consumption are one atomic step (gateway/sms/otp.py ``_VERIFY``)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.sms.support import run_worker
from tests.sms.test_otp_and_webhooks import _code_sent, _request_otp, _verify


@pytest.fixture
def worker_ctx(sms_app, ctx):
    return ctx


def _at_once(app, count, call):
    """Run ``call(client)`` from ``count`` threads released together; their answers."""
    start = threading.Barrier(count)

    def one(_):
        client = app.test_client()
        start.wait()
        return call(client)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_three_concurrent_verifies_of_the_right_code_succeed_once(
        sms_app, sms_client, worker_ctx, fake):
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    code = _code_sent(fake)
    answers = _at_once(sms_app, 3, lambda client: _verify(client, txn, code).status_code)
    assert sorted(answers) == [200, 404, 404]


def test_twelve_concurrent_wrong_codes_never_500_and_keep_the_expiry(
        sms_app, sms_client, worker_ctx, fake, redis_client):
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    wrong = "000000" if _code_sent(fake) != "000000" else "111111"
    answers = _at_once(sms_app, 12, lambda client: _verify(client, txn, wrong).status_code)
    assert 500 not in answers
    assert set(answers) <= {400, 403, 404, 429}  # wrong, locked, gone, rate-limited
    leftovers = list(redis_client.scan_iter(match="vaxgate:otp:txn:*"))
    assert all(redis_client.ttl(key) > 0 for key in leftovers)
    assert _verify(sms_client, txn, _code_sent(fake)).status_code == 404


def test_a_locked_code_stays_locked_when_the_right_code_follows(
        sms_client, worker_ctx, fake):
    txn = _request_otp(sms_client).json["transaction_id"]
    run_worker(worker_ctx)
    for _ in range(3):
        _verify(sms_client, txn, "999999" if _code_sent(fake) != "999999" else "888888")
    assert _verify(sms_client, txn, _code_sent(fake)).status_code == 404
