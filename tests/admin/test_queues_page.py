"""The Queues page: depths, the oldest job's age, failed jobs in words with retry, and no
Redis address or file path anywhere."""
from __future__ import annotations

from rq import Queue

from workers.worker import Worker  # RQ's SimpleWorker can hang 60 s at its stop


def test_a_failed_job_is_shown_in_words_and_put_back_by_retry(auth, client, redis_client):
    bulk = Queue("bulk", connection=redis_client)
    bulk.enqueue("builtins.int", "twelve")
    Worker([bulk], connection=redis_client).work(burst=True)
    bulk.enqueue("builtins.int", "7")  # waiting: no worker now
    auth.login()
    page = client.get("/admin/queues").get_data(as_text=True)
    assert "invalid literal for int() with base 10" in page and "Retry all 1" in page
    assert "redis://" not in page and ".sock" not in page and "/work/" not in page
    assert 'href="/admin/rq/"' in page
    answer = auth.post("/admin/queues/bulk/retry", follow_redirects=True).get_data(True)
    assert "1 failed job put back in the queue." in answer
    assert bulk.count == 2 and bulk.failed_job_registry.count == 0


def test_only_admins_retry_and_unknown_queues_are_not_found(auth, client):
    auth.login("patna")
    assert client.get("/admin/queues").status_code == 200
    assert auth.post("/admin/queues/bulk/retry").status_code == 403
    auth.login()
    assert auth.post("/admin/queues/nope/retry").status_code == 404
