"""``vaxgate worker`` stops on SIGTERM without waiting out its pubsub thread's 60 s read."""
from __future__ import annotations

import threading
import time

import pytest
from rq import SimpleWorker

from workers.worker import Worker

STOP_BOUND_S = 10  # far below the pubsub thread's 60 s read, far above any real stop


def _unsubscribe_after_the_thread_read_the_reply(worker_class, redis_client) -> float:
    """Seconds ``unsubscribe`` takes when Redis' UNSUBSCRIBE reply reaches the pubsub thread
    before the worker's next line runs (the race a loaded machine hit: rq/rq#1613)."""
    worker = worker_class(["notify"], connection=redis_client)
    worker.subscribe()
    send = worker.pubsub.unsubscribe

    def send_and_let_the_thread_read_the_reply(*args):
        sent = send(*args)
        deadline = time.monotonic() + 10
        while worker.pubsub.subscribed and time.monotonic() < deadline:
            time.sleep(0.01)
        return sent

    worker.pubsub.unsubscribe = send_and_let_the_thread_read_the_reply
    began = time.monotonic()
    stopper = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopper.start()
    stopper.join(STOP_BOUND_S)
    took = time.monotonic() - began
    worker.pubsub_thread.stop(timeout=0)  # let a hung thread go (a daemon: ends with pytest)
    return took


def test_worker_unsubscribes_even_when_the_reply_came_before_the_stop(redis_client):
    assert _unsubscribe_after_the_thread_read_the_reply(Worker, redis_client) < STOP_BOUND_S


@pytest.mark.slow
def test_rq_alone_waits_out_its_pubsub_read_in_that_race(redis_client):
    """Keeps the test above honest: without the fix the same steps hang."""
    assert _unsubscribe_after_the_thread_read_the_reply(SimpleWorker, redis_client) \
        >= STOP_BOUND_S
