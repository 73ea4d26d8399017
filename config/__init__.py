"""Settings for the broker. Imports nothing of ours."""
from .clock import Clock, system_clock
from .errors import ConfigError
from .settings import (
    CaptchaSettings,
    CodeSettings,
    LockoutSettings,
    PasswordSettings,
    SessionSettings,
    Settings,
    load_settings,
    setting_reference,
)

__all__ = [
    "CaptchaSettings", "Clock", "CodeSettings", "ConfigError", "LockoutSettings",
    "PasswordSettings", "SessionSettings", "Settings", "load_settings", "setting_reference",
    "system_clock",
]
