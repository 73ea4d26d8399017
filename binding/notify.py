"""Sending SMS and email. ``Notifier`` is the port; ``OutboxNotifier`` the embedded gateway
(ARCHITECTURE "Real parts, embedded defaults"): messages become OutboxMessage rows in the
caller's transaction, shown at /dev/outbox in demo mode. ``build_notifier`` picks, per channel,
the outbox or the real gateway of the settings (``binding.gateways``: SMTP, SMS webhook).
Message bodies may hold codes: they are never logged.
"""
from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from config import Clock, Settings

from .gateways import SmtpEmailGateway, WebhookSmsGateway
from .models import OutboxMessage

SMS_SIGNATURE = "【通行】"

_SMS_PURPOSE = {
    "register": "注册",
    "login": "登录",
    "reset": "重置密码",
}


class Notifier(Protocol):
    def send_sms(self, phone: str, text: str) -> None: ...

    def send_email(self, address: str, subject: str, text: str) -> None: ...


class OutboxNotifier:
    def __init__(self, db: Session, clock: Clock):
        self.db = db
        self.clock = clock

    def send_sms(self, phone: str, text: str) -> None:
        self.db.add(OutboxMessage(channel="sms", recipient=phone, subject=None, body=text,
                                  created_at=self.clock()))
        self.db.flush()

    def send_email(self, address: str, subject: str, text: str) -> None:
        self.db.add(OutboxMessage(channel="email", recipient=address, subject=subject, body=text,
                                  created_at=self.clock()))
        self.db.flush()


class SmsSender(Protocol):
    def send_sms(self, phone: str, text: str) -> None: ...


class EmailSender(Protocol):
    def send_email(self, address: str, subject: str, text: str) -> None: ...


class RoutedNotifier:
    """SMS to one gateway, email to another."""

    def __init__(self, sms: SmsSender, email: EmailSender):
        self.sms = sms
        self.email = email

    def send_sms(self, phone: str, text: str) -> None:
        self.sms.send_sms(phone, text)

    def send_email(self, address: str, subject: str, text: str) -> None:
        self.email.send_email(address, subject, text)


def build_notifier(db: Session, settings: Settings, clock: Clock) -> Notifier:
    """The gateways named by ``settings.sms.gateway`` and ``settings.email.gateway``."""
    outbox = OutboxNotifier(db, clock)
    sms = WebhookSmsGateway(settings.sms, clock) if settings.sms.gateway == "webhook" else outbox
    email = SmtpEmailGateway(settings.email, clock) if settings.email.gateway == "smtp" else outbox
    return RoutedNotifier(sms, email)


def code_sms(purpose: str, code: str, minutes: int) -> str:
    """E.g. "【通行】您的注册验证码为 123456，5分钟内有效，请勿告诉他人。"."""
    what = _SMS_PURPOSE.get(purpose, "")
    return f"{SMS_SIGNATURE}您的{what}验证码为 {code}，{minutes}分钟内有效，请勿告诉他人。"


def code_email(code: str, minutes: int) -> tuple[str, str]:
    """(subject, text) of the email-login code message, Chinese first."""
    subject = "【通行】登录验证码 / Tongxing sign-in code"
    text = (f"您的登录验证码为 {code}，{minutes}分钟内有效。如非本人操作，请忽略本邮件。\n\n"
            f"Your Tongxing sign-in code is {code}. It is valid for {minutes} minutes. "
            "If you did not ask for it, ignore this email.")
    return subject, text


def email_verification(code: str, minutes: int) -> tuple[str, str]:
    """(subject, text) of the code that proves a new address belongs to the account holder."""
    subject = "【通行】邮箱验证码 / Tongxing email verification code"
    text = (f"您正在为通行账号绑定此邮箱，验证码为 {code}，{minutes}分钟内有效。如非本人操作，请忽略本邮件。\n\n"
            f"Your code to add this address to your Tongxing account is {code}. It is valid for "
            f"{minutes} minutes. If you did not ask for it, ignore this email.")
    return subject, text


__all__ = ["Notifier", "OutboxNotifier", "RoutedNotifier", "SMS_SIGNATURE", "build_notifier", "code_email",
           "code_sms", "email_verification"]
