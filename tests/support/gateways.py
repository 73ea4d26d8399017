"""Real receivers for the code gateways: an SMTP server (aiosmtpd) and an HTTP endpoint
(werkzeug) in threads on 127.0.0.1, recording what they were sent."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Recorder:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


class SmtpSink:
    """A real SMTP server. With ``tls`` it offers STARTTLS (required) with a self-signed
    certificate for 127.0.0.1 and, with ``login``, requires AUTH with that (user, password)."""

    def __init__(self, tmp_path=None, *, tls: bool = False, login: tuple[str, str] | None = None):
        self.recorder = _Recorder()
        self.port = free_port()
        self.ca_file = None
        kwargs = {}
        if tls:
            self.ca_file, server_context = _self_signed(tmp_path)
            kwargs.update(tls_context=server_context, require_starttls=True)
        if login:
            kwargs.update(authenticator=_Authenticator(*login), auth_required=True)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)

    @property
    def messages(self):
        return self.recorder.messages

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


class _Authenticator:
    def __init__(self, user: str, password: str):
        self.expected = (user.encode(), password.encode())

    def __call__(self, server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == self.expected)


def _self_signed(tmp_path) -> tuple[str, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = os.path.join(tmp_path, "smtp.crt"), os.path.join(tmp_path, "smtp.key")
    with open(cert_file, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


@dataclass
class Received:
    headers: dict
    body: bytes


@dataclass
class WebhookReceiver:
    """An HTTP endpoint answering ``status`` after ``delay`` seconds, recording each request."""

    status: int = 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _app(self, environ, start_response):
        request = Request(environ)
        self.received.append(Received(dict(request.headers), request.get_data()))
        time.sleep(self.delay)
        return Response("{}", self.status, content_type="application/json")(environ, start_response)

    def __enter__(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
