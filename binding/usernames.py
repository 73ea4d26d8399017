"""Username rules (rule 1). Usernames must stay distinguishable from the other login names
(rule 2: one login field takes username, phone, email or USCC): they start with a letter, so
they are never an 11-digit phone; they have no "@", so never an email; and a string that is a
valid USCC is refused."""
from __future__ import annotations

import re

from .identifiers import is_valid_uscc

_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{2,31}")
# Rule 20: unbound sub-accounts get "_unbind" appended; a new name may not look like one.
RESERVED_SUFFIX = "_unbind"


def username_problem(raw: str) -> tuple[str, str] | None:
    """(zh, en) saying why ``raw`` cannot be a username, or None."""
    name = (raw or "").strip()
    if not 3 <= len(name) <= 32:
        return ("用户名长度需为 3 到 32 个字符", "The username needs 3 to 32 characters")
    if not _USERNAME.fullmatch(name):
        return ("用户名只能包含字母、数字、下划线、点和短横线，并以字母开头",
                "The username may hold letters, digits, _ . - only and must start with a letter")
    if is_valid_uscc(name):
        return ("用户名不能是统一社会信用代码", "The username may not be a unified social credit code")
    if name.lower().endswith(RESERVED_SUFFIX):
        return ("用户名不能以 _unbind 结尾", "The username may not end in _unbind")
    return None


__all__ = ["RESERVED_SUFFIX", "username_problem"]
