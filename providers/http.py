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
import http.cookiejar
import re
import time
from contextvars import ContextVar
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

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


class BackChannel(requests.Session):
    """``requests.Session`` for the back channels of every upstream (one per broker: pooling).

    ``requests`` asks the environment again on every call (``merge_environment_settings``: the
    proxies for the URL's host, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``), walking ``os.environ``
    twice per request: ~0.1 ms, a tenth of a federated login's own time. A process's environment
    does not change under it, and the answer depends only on the URL's origin, so it is kept per
    origin (scheme, host, port). The session's ``proxies`` / ``verify`` / ``cert`` are read at the
    first call to an origin too: set them before use. A call that passes any of these settings
    itself is not cached."""

    MAX_ORIGINS = 64   # upstream origins come from the configuration and its discovery documents

    def __init__(self) -> None:
        super().__init__()
        # One session serves every user's login: a cookie an upstream sets for one user's code
        # redemption must never ride along on the next user's calls. Back channels are
        # stateless (RFC 6749 §4.1.3, CAS §2.5): no cookie is kept at all.
        self.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        cache = self.__dict__.setdefault("_environment_by_origin", {})
        key = _origin(url)
        settings = cache.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, None, None, None)
            if len(cache) < self.MAX_ORIGINS:
                cache[key] = settings
        return {**settings, "proxies": dict(settings["proxies"] or {})}


FORM = "application/x-www-form-urlencoded"


class Upstream:
    def __init__(self, session: requests.Session, timeout: float, names: Names):
        self.session = session
        self.timeout = timeout
        self.names = names

    def send(self, method: str, url: str, *, what: str, params: Mapping[str, Any] | None = None,
             data: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
             auth: tuple[str, str] | None = None) -> requests.Response:
        """One request (``params`` in the query, ``data`` as a form body, HTTP Basic ``auth``);
        raises ``upstream_unavailable`` on transport errors and 5xx."""
        started, response = time.perf_counter(), None
        try:
            prepared = self._prepare(method, url, params, data, headers, auth)
            settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
            response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False, **settings)
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

    def _prepare(self, method, url, params, data, headers, auth) -> requests.PreparedRequest:
        """The request as ``Session.request`` would prepare it, for the shapes adapters send:
        the session's headers, cookies, hooks and auth, then ours; query and form encoded like
        ``requests`` does (``None`` values left out, lists repeated). Not its generic merging,
        which re-checks every mapping against ``typing`` protocols (~0.07 ms a call), nor
        ``~/.netrc``: a netrc entry for an upstream host would replace the Basic or Bearer
        credentials the adapter sets. (Session-wide ``params`` are not used: adapters pass theirs.)"""
        merged = CaseInsensitiveDict(self.session.headers)
        merged.update(headers or {})
        body = _encode(data) if data else None
        if body is not None:
            merged.setdefault("Content-Type", FORM)
        merged = {k: v for k, v in merged.items() if v is not None}   # None drops a session header
        prepared = requests.PreparedRequest()
        prepared.prepare(method=method, url=url, headers=merged, params=_encode(params) if params else None,
                         data=body, auth=auth or self.session.auth, cookies=self.session.cookies,
                         hooks=self.session.hooks)
        return prepared

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


def _encode(values: Mapping[str, Any]) -> str:
    """A query or form body as ``requests`` encodes a mapping: a list or tuple value repeats its
    key, ``None`` values are left out, inside lists too (``requests.models._encode_params``)."""
    return urlencode([(key, item) for key, value in values.items()
                      for item in (value if isinstance(value, (list, tuple)) else [value]) if item is not None])


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _where(url: str) -> str:
    """Scheme, host and path only: queries carry codes and secrets."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
