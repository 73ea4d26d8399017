"""Normalising and telling apart the identifiers a user may type: phone, email, USCC, username.

Rule 2 (DOMAIN): login by username, phone, email or (legal-person accounts) USCC. The four
shapes never overlap (usernames must start with a letter and may not be a USCC; see
``binding.accounts.username_problem``), so one login field is enough.
"""
from __future__ import annotations

import re

from .errors import ValidationFailed

# Mainland mobile numbers: 11 digits, 1 then 3-9 (MIIT numbering plan).
_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")

# GB 32100-2015 (统一社会信用代码) §4: 31 code characters (no I, O, Z, S, V) and the
# weights of positions 1-17; check character = 31 - (sum mod 31), 31 -> 0.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_INVALID_PHONE = ("请输入有效的中国大陆手机号（11 位，以 1 开头）",
                  "Enter a valid mainland China mobile number (11 digits starting with 1)")
_INVALID_EMAIL = ("请输入有效的电子邮箱地址", "Enter a valid email address")


def normalise_phone(raw: str, field: str = "phone") -> str:
    """The 11-digit mainland number; accepts ``+86``/``86``/``0086`` prefixes, spaces and dashes.

    Raises ValidationFailed naming ``field`` otherwise."""
    digits = _PHONE_NOISE.sub("", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not _MOBILE.fullmatch(digits):
        raise ValidationFailed({field: _INVALID_PHONE})
    return digits


def normalise_email(raw: str, field: str = "email") -> str:
    """Trimmed and lower-cased (one account per mailbox, whatever the case typed)."""
    email = (raw or "").strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise ValidationFailed({field: _INVALID_EMAIL})
    return email


def uscc_check_char(first17: str) -> str | None:
    """The GB 32100-2015 check character for the first 17 characters, None if not codable."""
    total = 0
    for char, weight in zip(first17, _USCC_WEIGHTS):
        value = USCC_CHARSET.find(char)
        if value < 0:
            return None
        total += value * weight
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(raw: str) -> bool:
    """18 characters from the GB 32100 charset with a correct check character (case-insensitive)."""
    code = (raw or "").strip().upper()
    return len(code) == 18 and uscc_check_char(code[:17]) == code[17]


def classify_identifier(raw: str) -> tuple[str, str]:
    """("uscc"|"phone"|"email"|"username", normalised value) for a typed login name.

    Usernames come back lower-cased: they are unique regardless of case."""
    text = (raw or "").strip()
    if is_valid_uscc(text):
        return "uscc", text.upper()
    try:
        return "phone", normalise_phone(text)
    except ValidationFailed:
        pass
    if "@" in text:
        try:
            return "email", normalise_email(text)
        except ValidationFailed:
            pass
    return "username", text.lower()


def mask_phone(phone: str) -> str:
    """138****8001: enough for audit trails and notices, not a full number."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


__all__ = [
    "USCC_CHARSET", "classify_identifier", "is_valid_uscc", "mask_email", "mask_phone",
    "normalise_email", "normalise_phone", "uscc_check_char",
]
