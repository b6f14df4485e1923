"""Read what a view left of the request body before answering.

A view that answers without reading the body (an anonymous CSV import refused with 401, a
body over the route's limit) leaves its bytes unread; gunicorn then closes the socket with
them in the receive buffer, the kernel resets the connection, and nginx in front answers 502
instead of the view's answer. Reading the rest lets the answer through: nginx has already
refused anything over the route's limit (deploy/nginx/vaxgate.conf), and past
``MAX_DRAINED_BYTES`` the connection is closed as before.
"""
from __future__ import annotations

from flask import Flask, Response, request

CHUNK = 1 << 16
MAX_DRAINED_BYTES = 64 << 20  # above the largest route limit (registration imports, 50 MB)


def install(app: Flask) -> None:
    @app.after_request
    def _drain(response: Response) -> Response:
        size = request.content_length
        # only a server that ends the input at its length (gunicorn) can be read to the end
        # without the stream's own limit, which refuses a body over MAX_CONTENT_LENGTH
        if size and size <= MAX_DRAINED_BYTES and request.environ.get("wsgi.input_terminated"):
            try:
                while request.environ["wsgi.input"].read(CHUNK):
                    pass
            except OSError:  # the client left
                pass
        return response
