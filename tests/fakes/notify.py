"""Real local endpoints for notification tests: an SMTP server (aiosmtpd) and a chat
endpoint (a tiny HTTP server that Apprise's ``json://`` target posts to)."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def html(self) -> str:
        part = self.message.get_body(("html", "plain"))
        return part.get_content() if part is not None else ""


class _Collector:
    def __init__(self):
        self.messages: list[ReceivedMail] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(ReceivedMail(
            envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)
        ))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        self.collector = _Collector()
        self.port = free_port()
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.collector.messages

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def connection_json(self, from_email: str = "warta@warta.localhost") -> str:
        return json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
            "extra": {"from_email": from_email, "disable_tls": True, "disable_ssl": True, "retry_limit": 0,
                      "timeout": 10},
        })

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class ChatEndpoint:
    """A fake chat service: records every JSON message posted to it, per path."""

    server: ThreadingHTTPServer = None
    received: list[dict] = field(default_factory=list)

    @classmethod
    def start(cls) -> ChatEndpoint:
        endpoint = cls()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                endpoint.received.append({"path": self.path, **body})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        endpoint.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=endpoint.server.serve_forever, daemon=True).start()
        return endpoint

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def connection_json(self, targets: dict[str, str]) -> str:
        """An Apprise connection with one json:// target per tag (tag -> URL path)."""
        config = [{"path": f"json://127.0.0.1:{self.port}/{path.lstrip('/')}", "tag": tag}
                  for tag, path in targets.items()]
        return json.dumps({"conn_type": "apprise", "extra": {"config": config}})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
