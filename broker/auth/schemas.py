"""Input schemas of the local-account pages (marshmallow). They check shape only (present,
short enough, one of the allowed choices); the rules (phone format, password strength,
taken names) belong to the domain, which names the rule it applies.

``load()`` turns marshmallow's errors into ``ValidationFailed`` with Chinese and English
messages naming each field."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from binding.errors import ValidationFailed

from .messages import AUTH_MESSAGES

_ERRORS = {"required": "required", "null": "required", "invalid": "invalid"}


def _text(max_length: int, *, required: bool = True, strip: bool = True) -> fields.String:
    validators = [validate.Length(max=max_length, error="too_long")]
    if required:
        validators.insert(0, validate.Length(min=1, error="required"))
    return fields.String(required=required, validate=validators, error_messages=_ERRORS,
                         metadata={"strip": strip})


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _strip(self, data: Mapping[str, Any], **_kwargs) -> dict[str, Any]:
        """Trim stray spaces users paste around names and codes (never around passwords)."""
        out = dict(data)
        for name, field in self.fields.items():
            if field.metadata.get("strip") and isinstance(out.get(name), str):
                out[name] = out[name].strip()
        return out


class PasswordLogin(_Base):
    username = _text(254)
    password = _text(256, strip=False)
    captcha = _text(16, required=False)


class CodeLogin(_Base):
    phone = _text(32)
    code = _text(16)


class SendCode(_Base):
    phone = _text(32)
    captcha = _text(16)


class EmailCodeLogin(_Base):
    email = _text(254)
    code = _text(16)


class SendEmailCode(_Base):
    email = _text(254)
    captcha = _text(16)


class Registration(_Base):
    phone = _text(32)
    code = _text(16)
    username = _text(64)
    password = _text(256, strip=False)
    kind = fields.String(required=True, validate=validate.OneOf(("personal", "enterprise"), error="choice"),
                         error_messages=_ERRORS)


class PasswordReset(_Base):
    phone = _text(32)
    code = _text(16)
    password = _text(256, strip=False)


class PasswordChange(_Base):
    old_password = _text(256, strip=False)
    new_password = _text(256, strip=False)


class EmailVerification(_Base):
    email = _text(254)


class EmailConfirmation(_Base):
    email = _text(254)
    code = _text(16)


_LABELS = {
    "username": "auth.field.username", "password": "auth.field.password", "phone": "auth.field.phone",
    "email": "auth.field.email",
    "code": "auth.field.code", "captcha": "auth.field.captcha", "kind": "auth.field.kind",
    "old_password": "auth.field.old_password", "new_password": "auth.field.new_password",
}


def _message(field: str, reason: str) -> tuple[str, str]:
    label_zh, label_en = AUTH_MESSAGES.get(_LABELS.get(field, ""), (field, field))
    zh, en = AUTH_MESSAGES.get(f"auth.err.{reason}", AUTH_MESSAGES["auth.err.invalid"])
    return zh.format(label=label_zh), en.format(label=label_en)


@lru_cache(maxsize=None)
def _instance(schema: type[Schema]) -> Schema:
    """One instance per schema: building one costs more than loading with it, and a schema
    keeps no state between loads (marshmallow's own examples share module-level instances)."""
    return schema()


def load(schema: type[Schema], data: Mapping[str, Any]) -> dict[str, Any]:
    """Validated input, or ``ValidationFailed`` naming every bad field in zh + en."""
    try:
        return _instance(schema).load(dict(data))
    except ValidationError as exc:
        errors = {}
        for name, reasons in exc.normalized_messages().items():
            first = reasons[0] if isinstance(reasons, list) and reasons else "invalid"
            errors[name] = _message(name, first if isinstance(first, str) else "invalid")
        raise ValidationFailed(errors) from None
