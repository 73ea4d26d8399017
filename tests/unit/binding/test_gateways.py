"""The real code gateways against real servers: SMTP (aiosmtpd) and an HTTP webhook (werkzeug)."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import ssl
import time

import pytest

from binding.gateways import DeliveryFailed, SmtpEmailGateway, WebhookSmsGateway
from binding.notify import OutboxNotifier, build_notifier, code_email, code_sms
from config import EmailSettings, SmsSettings, load_settings
from tests.support.clock import FrozenClock
from tests.support.gateways import SmtpSink, WebhookReceiver, free_port

SECRET = "s" * 40
SUBJECT, TEXT = code_email("482913", 5)
SMS = code_sms("login", "482913", 5)


def _smtp(port: int, **kw) -> EmailSettings:
    base = {"gateway": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
            "from_address": "sso@example.cn", "timeout_seconds": 5}
    return EmailSettings(**{**base, **kw})


def test_smtp_gateway_delivers_the_code_mail():
    with SmtpSink() as sink:
        SmtpEmailGateway(_smtp(sink.port), FrozenClock()).send_email("erin@example.com", SUBJECT, TEXT)
    [mail] = sink.messages
    assert (mail["From"], mail["To"], mail["Subject"]) == ("sso@example.cn", "erin@example.com", SUBJECT)
    assert "482913" in mail.get_content() and mail["Message-ID"].endswith("@example.cn>")


def test_smtp_starttls_checks_the_certificate_and_logs_in(tmp_path):
    with SmtpSink(tmp_path, tls=True, login=("mailer", "mail-pass")) as sink:
        settings = _smtp(sink.port, smtp_security="starttls", smtp_username="mailer", smtp_password="mail-pass")
        trusted = ssl.create_default_context(cafile=sink.ca_file)
        SmtpEmailGateway(settings, FrozenClock(), tls_context=trusted).send_email("erin@example.com", SUBJECT, TEXT)
        assert len(sink.messages) == 1
        # The system trust store does not know this self-signed server: refused, nothing sent.
        with pytest.raises(DeliveryFailed):
            SmtpEmailGateway(settings, FrozenClock()).send_email("erin@example.com", SUBJECT, TEXT)
        # A wrong password is refused by the server.
        wrong = _smtp(sink.port, smtp_security="starttls", smtp_username="mailer", smtp_password="nope")
        with pytest.raises(DeliveryFailed):
            SmtpEmailGateway(wrong, FrozenClock(), tls_context=trusted).send_email("erin@example.com", SUBJECT, TEXT)
    assert len(sink.messages) == 1


def test_smtp_server_down_is_a_delivery_failure_that_logs_no_code(caplog):
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryFailed) as caught:
        SmtpEmailGateway(_smtp(free_port()), FrozenClock()).send_email("erin@example.com", SUBJECT, TEXT)
    assert caught.value.code == "delivery_failed" and caught.value.zh and caught.value.en
    assert "482913" not in caplog.text and "erin@example.com" not in caplog.text


def _webhook(url: str, timeout: int = 5) -> SmsSettings:
    return SmsSettings(gateway="webhook", webhook_url=url, webhook_secret=SECRET, timeout_seconds=timeout)


def test_webhook_posts_signed_json():
    clock = FrozenClock()
    with WebhookReceiver() as receiver:
        WebhookSmsGateway(_webhook(receiver.url), clock).send_sms("13900000011", SMS)
    [got] = receiver.received
    assert json.loads(got.body)["phone"] == "13900000011" and json.loads(got.body)["text"] == SMS
    assert got.headers["Content-Type"].startswith("application/json")
    timestamp = got.headers["X-Tongxing-Timestamp"]
    assert int(timestamp) == int(clock().timestamp())
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["X-Tongxing-Signature"], "sha256=" + expected)


def test_webhook_refusal_is_a_delivery_failure():
    with WebhookReceiver(status=500) as receiver, pytest.raises(DeliveryFailed):
        WebhookSmsGateway(_webhook(receiver.url), FrozenClock()).send_sms("13900000011", SMS)


def test_webhook_timeout_is_a_delivery_failure_within_the_timeout(caplog):
    with WebhookReceiver(delay=3) as receiver:
        started = time.monotonic()
        with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryFailed):
            WebhookSmsGateway(_webhook(receiver.url, timeout=1), FrozenClock()).send_sms("13900000011", SMS)
        assert time.monotonic() - started < 2.5
    assert "482913" not in caplog.text and "13900000011" not in caplog.text


def test_settings_choose_the_gateways():
    clock = FrozenClock()
    default = build_notifier(None, load_settings({}), clock)
    assert isinstance(default.sms, OutboxNotifier) and isinstance(default.email, OutboxNotifier)
    real = build_notifier(None, load_settings({}, {
        "sms": {"gateway": "webhook", "webhook_url": "https://relay.example.cn/sms", "webhook_secret": SECRET},
        "email": {"gateway": "smtp", "smtp_host": "smtp.example.cn", "from_address": "sso@example.cn"}}), clock)
    assert isinstance(real.sms, WebhookSmsGateway) and isinstance(real.email, SmtpEmailGateway)
