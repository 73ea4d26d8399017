"""Configuration checked once, at start-up, with every problem reported together (issue 2,
"validated once at start-up; every problem is reported together with the setting's name").

The core settings are checked by ``config``; the raw tables it keeps in ``Settings.extra``
are checked by their owners: ``[oidc]`` and ``[[clients]]`` (``binding.oauth.config``) and
``[[providers]]`` (``providers.registry``). This module runs all of them and raises one
``ConfigError``: ``create_app`` and every ``broker`` command use it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from config import ConfigError, Settings, read_settings


def load_checked_settings(environ: Mapping[str, str] | None = None,
                          overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from the environment (+ ``BROKER_CONFIG``), every table checked; ConfigError
    lists every problem of every part."""
    settings, problems = read_settings(environ, overrides)
    _raise_if_any(problems + table_problems(settings))
    return settings


def check_settings(settings: Settings) -> Settings:
    """Check settings built elsewhere (tests, the demo) the same way; returns them unchanged."""
    _raise_if_any(settings.validate() + table_problems(settings))
    return settings


def table_problems(settings: Settings) -> list[str]:
    """The problems of the ``[oidc]``, ``[[clients]]`` and ``[[providers]]`` tables."""
    from binding.oauth import config_client_specs, oidc_settings
    from providers.registry import build_providers

    problems = _problems_of(oidc_settings, settings)
    # The clients check reads [oidc] itself: with a bad [oidc] it would only repeat those
    # problems, so the clients are checked against the default [oidc].
    clients_view = dataclasses.replace(settings, extra={**settings.extra, "oidc": {}}) if problems else settings
    problems += _problems_of(config_client_specs, clients_view)
    problems += _problems_of(lambda s: build_providers(s.extra.get("providers"), production=s.production), settings)
    return problems


def _problems_of(check: Callable[[Settings], Any], settings: Settings) -> list[str]:
    try:
        check(settings)
    except ConfigError as exc:
        return list(exc.problems)
    return []


def _raise_if_any(problems: list[str]) -> None:
    unique = list(dict.fromkeys(problems))
    if unique:
        raise ConfigError(unique)


__all__ = ["check_settings", "load_checked_settings", "table_problems"]
