"""CAS upstreams (Apereo CAS Protocol 3.0 specification), common in government portals.

The browser goes to ``<cas_url>/login?service=<callback with state>`` (§2.1); the portal comes
back to the service with ``ticket=ST-...``; we validate it at ``<cas_url>/serviceValidate``
(CAS 2.0, §2.5) or ``<cas_url>/p3/serviceValidate`` (CAS 3.0, §2.5 + attributes §2.5.7) with
exactly the service URL the login was started with (kept in ``opaque``). The XML answer comes
from the network, so it is parsed with defusedxml (no entity expansion, no external entities).
Failure codes (§2.5.3): INTERNAL_ERROR is the portal's fault (retry); INVALID_REQUEST and
INVALID_SERVICE mean an answer that does not fit our request; the others are refusals.
"""
from __future__ import annotations

from typing import Any, Mapping
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from .adapter import BaseAdapter, with_query
from .base import Identity, LoginStart
from .schema import Key

NS = "{http://www.yale.edu/tp/cas}"
_INVALID_CODES = {"INVALID_REQUEST", "INVALID_SERVICE", "INVALID_PROXY_CALLBACK"}


class CASAdapter(BaseAdapter):
    TYPE = "cas"
    KEYS = {
        "cas_url": Key("url", required=True),
        "cas_version": Key("choice", default="3.0", choices=("3.0", "2.0")),
        "issuer": Key("str"),
    }
    DEFAULT_CLAIMS = {"subject": "user", "login_name": "user"}

    @property
    def base(self) -> str:
        return self.options["cas_url"].rstrip("/")

    @property
    def issuer(self) -> str:
        return self.options["issuer"] or self.base

    def login_url(self, callback_url: str, state: str) -> LoginStart:
        # CAS has no state parameter: it rides in the service URL, which CAS returns unchanged.
        service = with_query(callback_url, state=state)
        opaque = {"state": state, "service": service, "issuer": self.issuer}
        return LoginStart(with_query(f"{self.base}/login", service=service), opaque)

    def handle_callback(self, opaque: Mapping[str, Any], params: Mapping[str, str]) -> Identity:
        self.check_callback(opaque, params)
        ticket = params.get("ticket")
        if not ticket:
            raise self.names.denied("cancelled")
        path = "/p3/serviceValidate" if self.options["cas_version"] == "3.0" else "/serviceValidate"
        response = self.upstream.send("GET", f"{self.base}{path}", what="serviceValidate",
                                      params={"service": opaque.get("service"), "ticket": ticket})
        if response.status_code >= 400:
            raise self.names.denied(f"HTTP {response.status_code}")
        return self.identity(self.issuer, self._claims(response.content))

    def _claims(self, body: bytes) -> dict[str, Any]:
        try:
            root = SafeET.fromstring(body)
        except (ParseError, DefusedXmlException, ValueError):
            raise self.names.invalid("serviceValidate", "票据校验应答不是有效的 XML",
                                     "the ticket validation answer is not valid XML") from None
        failure = root.find(f"{NS}authenticationFailure")
        if failure is not None:
            code = (failure.get("code") or "").strip().upper()
            if code == "INTERNAL_ERROR":
                raise self.names.unavailable("serviceValidate: INTERNAL_ERROR")
            if code in _INVALID_CODES:
                raise self.names.invalid(code, "票据校验请求与登录不符", "ticket validation does not fit this login")
            raise self.names.denied(code or "authenticationFailure")
        success = root.find(f"{NS}authenticationSuccess")
        user = success.findtext(f"{NS}user") if success is not None else None
        if root.tag != f"{NS}serviceResponse" or not user or not user.strip():
            raise self.names.invalid("serviceValidate", "票据校验应答格式不正确", "unexpected ticket validation answer")
        claims: dict[str, Any] = _attributes(success.find(f"{NS}attributes"))
        claims["user"] = user.strip()
        return claims


def _attributes(node: Element | None) -> dict[str, Any]:
    """CAS 3.0 attributes; a repeated attribute becomes a list (§2.5.7)."""
    found: dict[str, Any] = {}
    for child in node if node is not None else ():
        name = child.tag.removeprefix(NS)
        value = (child.text or "").strip()
        if name in found:
            found[name] = found[name] if isinstance(found[name], list) else [found[name]]
            found[name].append(value)
        else:
            found[name] = value
    return found
