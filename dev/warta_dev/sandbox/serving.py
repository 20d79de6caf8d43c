"""Serving a sandbox WSGI app from a background thread, and dropping a connection on purpose."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, NoReturn

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Response


class QuietRequestHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        pass


def make_app_server(app, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = False) -> BaseWSGIServer:
    """A threaded HTTP server for ``app`` (port 0 picks a free port)."""
    return make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler if quiet else None)


def answering_after(app, seconds: float):
    """``app`` answering every request ``seconds`` late, as a remote service over the internet does."""
    if seconds <= 0:
        return app

    def delayed(environ, start_response):
        time.sleep(seconds)
        return app(environ, start_response)

    return delayed


class RunningApp:
    """``app`` served from a background thread; ``stop()`` (or leaving ``with``) ends it.
    ``delay_seconds`` makes every answer that late (benchmarks' stand-in for the network)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True,
                 delay_seconds: float = 0.0):
        self.app = app
        self._server = make_app_server(answering_after(app, delay_seconds), host, port, quiet=quiet)
        self.port: int = self._server.port
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{type(app).__name__}-{self.port}", daemon=True)
        self._thread.start()

    @property
    def fake(self):
        return self.app

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "RunningApp":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def drop_connection(environ: dict) -> NoReturn:
    """Close the client's connection with no answer at all (werkzeug's server hands us the socket)."""
    connection = environ.get("werkzeug.socket")
    if connection is None:
        raise RuntimeError("dropping a connection needs werkzeug's development server")
    connection.shutdown(socket.SHUT_RDWR)
    # werkzeug's server treats ConnectionError as a client that went away: nothing is sent.
    raise ConnectionAbortedError("connection dropped on purpose after the work was done")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, headers=headers or {}, mimetype="application/json")
