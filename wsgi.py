"""gunicorn entry point: ``gunicorn wsgi:app``. Settings come from config.yaml + env."""
from gateway import create_app
from gateway.infra.logs import configure_logging

configure_logging()  # the app's own records to stderr, long numbers masked
app = create_app()
