"""Settings for the broker. Imports nothing of ours."""
from .clock import Clock, system_clock
from .errors import ConfigError
from .settings import (
    CaptchaSettings,
    CodeSettings,
    EmailSettings,
    EXTRA_TABLES,
    LockoutSettings,
    PasswordSettings,
    SessionSettings,
    Settings,
    SmsSettings,
    load_settings,
    read_settings,
    setting_reference,
)

__all__ = [
    "CaptchaSettings", "Clock", "CodeSettings", "ConfigError", "EXTRA_TABLES", "EmailSettings",
    "LockoutSettings", "PasswordSettings", "SessionSettings", "Settings", "SmsSettings", "load_settings",
    "read_settings", "setting_reference", "system_clock",
]
