"""Privacy tests reuse the health-worker fixtures (a worker at a demo center, her phone)."""
from tests.healthworkers.conftest import hw_phone, worker, worker_with_pin  # noqa: F401
