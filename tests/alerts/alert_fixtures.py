"""Helpers shared by the alert tests."""

from __future__ import annotations

from dataclasses import replace

from cchc.config import AlertSettings, Settings


def with_urls(settings: Settings, *urls: str, **options) -> Settings:
    """The settings with these alert channels (and other [alerts] options)."""
    return replace(settings, alerts=AlertSettings(urls=urls, **options))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpInbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    @property
    def url(self) -> str:
        """The Apprise URL of this server: plain SMTP, no TLS, no login."""
        return (f"mailto://127.0.0.1:{self.port}?mode=insecure&from=cchc@example.org"
                "&to=ops@example.org")

    def subjects(self) -> list[str]:
        return [str(m["subject"]) for m in self.messages]

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("plain",)).get_content() for m in self.messages]

    def start(self) -> SmtpInbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class JsonReceiver:
    """A tiny HTTP server (a thread) that keeps every JSON body POSTed to it."""

    def __init__(self, port: int = 0) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                import json

                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/cchc-alerts"

    def start(self) -> JsonReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
