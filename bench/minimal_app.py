"""The smallest Flask app with a USSD-shaped endpoint: the baseline for ``ussd_bench.py``.

It parses the same form and answers ``CON hello`` as ``text/plain``, so its requests/s under
the same gunicorn settings is the ceiling the gateway's USSD steps/s is compared with.
Run by the bench as ``python -m gunicorn minimal_app:app`` from the bench/ folder.
"""
from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/ussd/africastalking")
def ussd() -> Response:
    """Read the form like a USSD handler would, and answer a fixed screen."""
    request.form.get("text", "")
    return Response("CON hello", mimetype="text/plain")
