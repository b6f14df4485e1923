"""Health endpoints: /healthz (process), /readyz (database + Redis), /metrics."""
from __future__ import annotations

from gateway import create_app


def test_healthz_answers_without_dependencies(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_names_an_unreachable_redis(settings, db, tmp_path):
    settings.redis_url = f"unix://{tmp_path / 'no-such.sock'}"
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")
    assert response.json["checks"]["database"] == "ok"


def test_metrics_count_ussd_steps(client):
    def answered() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        line = next((ln for ln in text.splitlines()
                     if ln.startswith('vaxgate_ussd_steps_total{result="bad_request"}')), "x 0")
        return float(line.split()[-1])

    before = answered()
    client.post("/ussd/africastalking", data={"text": ""})
    assert answered() == before + 1


def test_unknown_paths_get_a_404_problem(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["title"] == "Not Found" and response.json["status"] == 404


def test_readyz_is_unavailable_when_the_database_refuses_writes(settings, db, redis_client):
    """A database that answers reads but takes no write (disk full, read-only) is not ready."""
    path = settings.database_url.removeprefix("sqlite:///")
    settings.database_url = f"sqlite:///file:{path}?mode=ro&uri=true"
    response = create_app(settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("error")
    assert response.json["checks"]["redis"] == "ok"


def test_readyz_is_unavailable_when_redis_refuses_writes(client, redis_client):
    """A Redis out of memory (noeviction) answers PING but refuses every write."""
    old = redis_client.config_get("maxmemory*")
    redis_client.config_set("maxmemory-policy", "noeviction")
    redis_client.config_set("maxmemory", 1)
    try:
        response = client.get("/readyz")
    finally:
        redis_client.config_set("maxmemory", old["maxmemory"])
        redis_client.config_set("maxmemory-policy", old["maxmemory-policy"])
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")
