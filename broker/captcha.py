"""Image captcha before an SMS / email code is sent, and on password login when the IP
throttle asks for one (DOMAIN rule 3, `000` §6).

The answer never leaves the server in clear: the Flask session (a signed cookie) holds only
an HMAC of it, a random id and the expiry. Each captcha is single-use: verifying pops it
from the session and records its id in Redis, so replaying an old cookie cannot reuse it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, Response, current_app, session

from binding.errors import DomainError

from .services import services

bp = Blueprint("captcha", __name__)

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: characters people misread on a noisy image.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
_SESSION_KEY = "captcha"
_USED_KEY = "tongxing:captcha:used:{}"


class InvalidCaptcha(DomainError):
    code = "invalid_captcha"

    def __init__(self):
        super().__init__("图形验证码错误或已过期，请重新输入",
                         "The image captcha is wrong or has expired; enter the new one", field="captcha")


def _mac(captcha_id: str, answer: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"captcha:{captcha_id}:{answer.strip().upper()}".encode(), hashlib.sha256).hexdigest()


def _now_ts() -> float:
    return services().clock().timestamp()


def issue() -> str:
    """A new challenge text, remembered (as an HMAC) in this browser's session."""
    settings = services().settings.captcha
    text = "".join(secrets.choice(ALPHABET) for _ in range(settings.length))
    captcha_id = secrets.token_urlsafe(12)
    session[_SESSION_KEY] = {"id": captcha_id, "mac": _mac(captcha_id, text),
                             "exp": _now_ts() + settings.ttl_seconds}
    return text


def _demo_answer_matches(answer: str) -> bool:
    """Demo mode with BROKER_DEMO_CAPTCHA: exactly that text passes (DEMO.md), never otherwise."""
    settings = services().settings
    if not (settings.demo and settings.demo_captcha):
        return False
    return hmac.compare_digest(answer.encode(), settings.demo_captcha.encode())


def check(answer: str | None) -> bool:
    """True when ``answer`` solves this session's captcha. Consumes it either way."""
    answer = (answer or "").strip()
    stored = session.pop(_SESSION_KEY, None)
    if not answer:
        return False
    if _demo_answer_matches(answer):
        return True
    if not isinstance(stored, dict) or _now_ts() > float(stored.get("exp", 0)):
        return False
    expected = str(stored.get("mac", ""))
    if not hmac.compare_digest(_mac(str(stored.get("id")), answer).encode(), expected.encode()):
        return False
    # First use wins; a replayed cookie finds the id already spent.
    ttl = max(1, services().settings.captcha.ttl_seconds)
    return bool(services().redis.set(_USED_KEY.format(stored["id"]), b"1", nx=True, ex=ttl))


def require(answer: str | None) -> None:
    """Raise ``invalid_captcha`` (field ``captcha``) unless the answer is right."""
    if not check(answer):
        raise InvalidCaptcha()


def verify_if_given(answer: str | None) -> bool:
    """For password login: no answer -> False (the domain decides whether one is needed);
    a wrong answer is refused before any password is checked."""
    if not (answer or "").strip():
        return False
    require(answer)
    return True


@bp.get("/captcha.png")
def image():
    from captcha.image import ImageCaptcha

    data = ImageCaptcha(width=160, height=60).generate(issue()).getvalue()
    return Response(data, mimetype="image/png", headers={"Cache-Control": "no-store"})


def register(app) -> None:
    app.register_blueprint(bp)
