"""Back-channel HTTP to an upstream through an injected ``requests.Session``.

Every call has the provider's timeout. Transport failures and 5xx become
``upstream_unavailable`` (retry); 4xx answers become ``upstream_denied`` with the upstream's
error code (RFC 6749 §5.2 ``error``, WeChat ``errcode``, Weibo ``error_code``); a 2xx answer
that is not what the protocol promises is ``upstream_invalid``. Nothing here logs or keeps a
URL's query, a request body or an answer: they carry secrets, codes and tokens (WeChat even
puts the app secret in the query), and exceptions are raised ``from None`` so that no
traceback carries them either.

``meter_upstream_waits()`` lets a caller (the broker, per web request) learn how long its
thread spent waiting on upstreams: each call adds the time from sending the request to the
upstream's answer (``requests``' ``Response.elapsed``; the whole call when it fails). Preparing
the request and reading the JSON stay the caller's own time.
"""
from __future__ import annotations

import json
import logging
import re
import time
from contextvars import ContextVar
from typing import Any, Mapping
from urllib.parse import urlsplit

import requests

from .errors import Names

log = logging.getLogger(__name__)
_JSONP = re.compile(r"^\s*[A-Za-z_$][\w$]*\s*\((.*)\)\s*;?\s*$", re.S)


class UpstreamWaits:
    """Time spent waiting on upstream answers since ``meter_upstream_waits()``, and how many calls."""

    __slots__ = ("seconds", "calls")

    def __init__(self):
        self.seconds, self.calls = 0.0, 0

    @property
    def ms(self) -> float:
        return round(self.seconds * 1000, 2)


_waits: ContextVar[UpstreamWaits | None] = ContextVar("providers_upstream_waits", default=None)


def meter_upstream_waits() -> UpstreamWaits:
    """Start a fresh count for the current context (a thread, or one request in it); every
    ``Upstream.send`` from here on adds to it. Call again to start over (the next request)."""
    waits = UpstreamWaits()
    _waits.set(waits)
    return waits


def _count_wait(started: float, response: requests.Response | None) -> None:
    waits = _waits.get()
    if waits is None:
        return
    elapsed = getattr(response, "elapsed", None)
    waits.seconds += elapsed.total_seconds() if elapsed is not None else time.perf_counter() - started
    waits.calls += 1


class Upstream:
    def __init__(self, session: requests.Session, timeout: float, names: Names):
        self.session = session
        self.timeout = timeout
        self.names = names

    def send(self, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        """One request; raises ``upstream_unavailable`` on transport errors and 5xx."""
        started, response = time.perf_counter(), None
        try:
            response = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.Timeout:
            log.warning("provider %s: %s timed out (%s)", self.names.id, what, _where(url))
            raise self.names.unavailable(f"{what}: timeout") from None
        except requests.RequestException as exc:
            log.warning("provider %s: %s failed: %s (%s)", self.names.id, what, type(exc).__name__, _where(url))
            raise self.names.unavailable(f"{what}: {type(exc).__name__}") from None
        finally:
            _count_wait(started, response)
        if response.status_code >= 500:
            log.warning("provider %s: %s answered HTTP %s", self.names.id, what, response.status_code)
            raise self.names.unavailable(f"{what}: HTTP {response.status_code}")
        return response

    def json(self, method: str, url: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        """A JSON object answer (JSONP ``callback(...)`` tolerated, as QQ Connect sends it)."""
        response = self.send(method, url, what=what, **kwargs)
        body = parse_json_object(response.text)
        if response.status_code >= 400:
            code = (error_code(body) if body is not None else None) or f"HTTP {response.status_code}"
            log.info("provider %s: %s refused: %s", self.names.id, what, code)
            raise self.names.denied(code)
        if body is None or not 200 <= response.status_code < 300:
            raise self.names.invalid(what, f"{what} 应答格式不正确", f"{what} answer is not a JSON object")
        code = error_code(body)  # WeChat, QQ and Weibo report errors with HTTP 200
        if code is not None:
            log.info("provider %s: %s refused: %s", self.names.id, what, code)
            raise self.names.denied(code)
        return body


def parse_json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        match = _JSONP.match(text or "")
        if not match:
            return None
        try:
            value = json.loads(match.group(1))
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def error_code(body: Mapping[str, Any]) -> str | None:
    """The error code of an OAuth-style error answer, whatever the dialect; None if none."""
    for key in ("error", "errcode", "error_code"):
        value = body.get(key)
        if value not in (None, "", 0, "0"):
            return str(value)
    return None


def _where(url: str) -> str:
    """Scheme, host and path only: queries carry codes and secrets."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
