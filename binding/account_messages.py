"""The refusals of the accounts domain, in Chinese and English (house rule: every refusal
names the field and the reason in both languages)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from .errors import AccountDisabled, AccountLocked, Conflict, InvalidCredentials, NotFound, RateLimited

# Lock messages give the wall-clock time users live in (China Standard Time, no DST).
CHINA_TIME = timezone(timedelta(hours=8), "UTC+8")
CODE_MISSING = ("请输入验证码", "Enter the code")


def china_time(at: datetime) -> str:
    return at.astimezone(CHINA_TIME).strftime("%H:%M")


def disabled() -> AccountDisabled:
    return AccountDisabled("该账号已被停用，请联系客服", "This account has been disabled; contact support")


def phone_taken() -> Conflict:
    return Conflict("该手机号已注册，请直接登录或找回密码",
                    "This phone number is already registered; sign in or reset the password", field="phone")


def no_account() -> NotFound:
    return NotFound("未找到该账号", "No account matches this login name", field="login")


def wrong_password(attempts_left: int, field: str) -> InvalidCredentials:
    return InvalidCredentials(f"登录名或密码错误，还可尝试 {attempts_left} 次",
                              f"Wrong login name or password; {attempts_left} "
                              f"attempt{'' if attempts_left == 1 else 's'} left",
                              field=field, attempts_left=attempts_left)


def wrong_password_now_locked(unlock_at: datetime, retry_after: int, field: str) -> InvalidCredentials:
    """The checked-and-wrong password that starts the lock: still invalid_credentials (issue 2)."""
    at = china_time(unlock_at)
    return InvalidCredentials(
        f"登录名或密码错误。错误次数过多，账号已锁定，将于 {at}（北京时间）解锁",
        f"Wrong login name or password. Too many failures: the account is now locked until {at} (Beijing time)",
        field=field, attempts_left=0, retry_after=retry_after, unlock_at=unlock_at.isoformat(),
    )


def locked(retry_after: int, unlock_at: datetime | None) -> AccountLocked:
    """Refused without checking the password: says it is locked and when it unlocks."""
    minutes = max(1, -(-retry_after // 60))
    when = f"（北京时间 {china_time(unlock_at)}）" if unlock_at else ""
    when_en = f" (at {china_time(unlock_at)} Beijing time)" if unlock_at else ""
    return AccountLocked(
        f"密码错误次数过多，账号已锁定，请 {minutes} 分钟后{when}再试；也可使用短信验证码登录或找回密码",
        f"Too many wrong passwords: the account is locked; try again in {minutes} min{when_en}, "
        "or sign in with an SMS code or reset the password",
        retry_after=retry_after, unlock_at=unlock_at.isoformat() if unlock_at else None,
    )


def rate_limited(wait: int, reason: str | None, field: str) -> RateLimited:
    if reason == "interval":
        zh, en = f"发送过于频繁，请 {wait} 秒后再试", f"Codes are sent at most once a minute; try again in {wait} s"
    elif reason == "daily":
        zh, en = "该号码今日接收验证码次数已达上限，请明天再试", "This recipient got too many codes today; try again tomorrow"
    else:
        zh, en = "请求过于频繁，请稍后再试", f"Too many code requests from your network; try again in {wait} s"
    return RateLimited(zh, en, field=field, retry_after=wait, reason=reason)


def email_taken() -> Conflict:
    return Conflict("该邮箱已被其他账号使用，请换一个邮箱", "This email address belongs to another account; use another one",
                    field="email")
