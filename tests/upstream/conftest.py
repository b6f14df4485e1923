"""Upstream fixtures: the fake upstream registry and settings pointing at it."""
from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from workers import jobs

from .fake_upstream import SECRET, FakeUpstream


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def upstream(upstream_server, monkeypatch) -> FakeUpstream:
    upstream_server.reset()
    monkeypatch.setenv("VAXGATE_UPSTREAM_SECRET", SECRET)
    return upstream_server


@pytest.fixture
def upstream_settings(settings, upstream):
    data = settings.model_dump()
    data["upstream"] = {**data["upstream"], "url": upstream.url, "timeout_seconds": 2}
    return type(settings).model_validate(data)


@pytest.fixture
def uctx(upstream_settings, db, redis_client):
    """What the jobs get from the worker: settings, database, Redis."""
    return SimpleNamespace(settings=upstream_settings, db=db, redis=redis_client,
                           queue_redis=redis_client)


@pytest.fixture
def make_uctx(upstream_settings, db, redis_client):
    """``make_uctx(max_in_flight=3, ...)``: ``uctx`` with those upstream settings changed."""
    def make(**changes) -> SimpleNamespace:
        data = upstream_settings.model_dump()
        data["upstream"].update(changes)
        return SimpleNamespace(settings=type(upstream_settings).model_validate(data), db=db,
                               redis=redis_client, queue_redis=redis_client)

    return make


@pytest.fixture
def worker_ctx(uctx):
    """``uctx`` installed as the job context, as ``vaxgate worker`` installs its own."""
    jobs.install(uctx)
    yield uctx
    jobs.install(None)
