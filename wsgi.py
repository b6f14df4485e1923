"""gunicorn entry point: ``gunicorn wsgi:app``. Settings come from config.yaml + env."""
from gateway import create_app

app = create_app()
