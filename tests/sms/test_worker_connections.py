"""An idle SMS worker waits for jobs on the queue Redis without a read timeout cutting in."""
from __future__ import annotations

from workers.worker import Worker, worker_connections, worker_queues


def test_a_connection_the_cron_thread_opened_first_outlasts_the_wait_for_a_job(settings):
    _, queue = worker_connections(settings)
    queue.time()  # the cron thread's first call, made before RQ's Worker exists
    worker = Worker(worker_queues(settings), connection=queue)
    pool = queue.connection_pool
    connection = pool.get_connection()  # the one the worker's BLPOP gets next
    try:
        assert connection.socket_timeout > worker.dequeue_timeout
    finally:
        pool.release(connection)
        queue.close()
