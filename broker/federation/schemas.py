"""Input schemas of the federation pages (shape only; the rules are the domain's)."""
from __future__ import annotations

from ..auth.schemas import _Base, _text


class ProveOwnership(_Base):
    """Sign in to the local account in conflict (rule 11, the third way out)."""

    username = _text(254)
    password = _text(256, strip=False)
    captcha = _text(16, required=False)


class CompleteProfile(_Base):
    """The basic info of a new local account (rule 11, nothing found); ``phone`` + ``code``
    when the portal gave no verified phone (rule 1)."""

    username = _text(64)
    display_name = _text(64, required=False)
    email = _text(254, required=False)
    phone = _text(32, required=False)
    code = _text(16, required=False)


class SendProfileCode(_Base):
    """The "send code" button of the profile page: captcha first (rule 3)."""

    phone = _text(32)
    captcha = _text(16)
