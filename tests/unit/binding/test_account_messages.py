"""Refusal texts read correctly in both languages."""
from binding import account_messages as msg


def test_attempts_left_is_singular_for_one():
    assert msg.wrong_password(1, "password").en.endswith("; 1 attempt left")
    assert msg.wrong_password(3, "password").en.endswith("; 3 attempts left")
    assert "还可尝试 1 次" in msg.wrong_password(1, "password").zh
