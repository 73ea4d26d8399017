"""Real gateways for codes (ARCHITECTURE "Real parts, embedded defaults"): production sends
email through an SMTP server and SMS through an HTTP webhook; the outbox of ``notify`` stays
for development, tests and the demo (production refuses to start with it, ``config``).

Message bodies hold codes: they are never logged, and a failure logs only its kind.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import requests

from config import Clock, EmailSettings, SmsSettings

from .errors import DomainError

log = logging.getLogger("binding.gateways")
SIGNATURE_HEADER = "X-Tongxing-Signature"
TIMESTAMP_HEADER = "X-Tongxing-Timestamp"


class DeliveryFailed(DomainError):
    """The gateway did not take the message: nothing was sent, the user may try again."""

    code = "delivery_failed"


def _failed(channel: str) -> DeliveryFailed:
    if channel == "sms":
        return DeliveryFailed("短信发送失败，请稍后重试", "The SMS could not be sent; try again later")
    return DeliveryFailed("邮件发送失败，请稍后重试", "The email could not be sent; try again later", field="email")


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256(secret, timestamp + "." + body): the receiver recomputes it
    over the raw body and compares in constant time, and refuses stale timestamps (replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSmsGateway:
    """SMS through an HTTP relay (the SMS provider's API behind a small adapter): one JSON POST
    ``{"id", "phone", "text"}`` per message, signed, with a timeout; any non-2xx answer,
    timeout or connection error is a failure."""

    def __init__(self, settings: SmsSettings, clock: Clock):
        self.settings = settings
        self.clock = clock

    def send_sms(self, phone: str, text: str) -> None:
        body = json.dumps({"id": uuid.uuid4().hex, "phone": phone, "text": text}, ensure_ascii=False).encode()
        timestamp = str(int(self.clock().timestamp()))
        headers = {"Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: webhook_signature(self.settings.webhook_secret, timestamp, body)}
        try:
            answer = requests.post(self.settings.webhook_url, data=body, headers=headers,
                                   timeout=self.settings.timeout_seconds, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("sms webhook failed: %s", type(exc).__name__)
            raise _failed("sms") from None
        if not 200 <= answer.status_code < 300:
            log.warning("sms webhook refused the message: HTTP %s", answer.status_code)
            raise _failed("sms")


class SmtpEmailGateway:
    """Email through an SMTP server (RFC 5321): STARTTLS (RFC 3207) or implicit TLS (RFC 8314),
    certificate checked; login when a username is set; a timeout on every socket operation."""

    def __init__(self, settings: EmailSettings, clock: Clock, *, tls_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.clock = clock
        self.tls_context = tls_context or ssl.create_default_context()

    def send_email(self, address: str, subject: str, text: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.from_address
        message["To"] = address
        message["Subject"] = subject
        message["Date"] = format_datetime(self.clock())
        message["Message-ID"] = make_msgid(domain=s.from_address.rpartition("@")[2] or None)
        message.set_content(text)
        try:
            with self._connect() as smtp:
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:  # texts may quote the address: kind only
            log.warning("smtp delivery failed: %s", type(exc).__name__)
            raise _failed("email") from None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_security == "ssl":
            return smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds, context=self.tls_context)
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds)
        if s.smtp_security == "starttls":
            try:
                smtp.starttls(context=self.tls_context)
            except BaseException:
                smtp.close()
                raise
        return smtp


__all__ = ["DeliveryFailed", "SIGNATURE_HEADER", "SmtpEmailGateway", "TIMESTAMP_HEADER", "WebhookSmsGateway",
           "webhook_signature"]
