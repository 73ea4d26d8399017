"""``/miit``: a CAS server (CAS Protocol 3.0 specification, Apereo): ``/cas/login`` issues a
service ticket to the registered service, ``/cas/serviceValidate`` answers the CAS 2.0 XML,
``/cas/p3/serviceValidate`` the CAS 3.0 XML with ``<cas:attributes>``. Tickets are single use
and bound to the exact service URL (§3.1, §2.5). Legal-person accounts log in with their USCC."""
from __future__ import annotations

from datetime import datetime, timezone
from xml.sax.saxutils import escape

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, redirect, request, url_for

from .accounts import PortalAccount
from .state import TICKET_TTL
from .web import Portal, add_login_routes, backchannel_fault, error_page, faults, page, sandbox, signed_in, to_login

PORTAL = Portal("miit", "工业和信息化部政务服务统一认证", "MIIT government services (CAS)", "#0b6e4f")
NS = "http://www.yale.edu/tp/cas"

bp = Blueprint(PORTAL.id, __name__, url_prefix="/" + PORTAL.id)
add_login_routes(bp, PORTAL)


@bp.get("/cas/login")
def login_page():
    """CAS 3.0 §2.1: with ``service``, a signed-in user goes straight back with a ticket."""
    service = request.args.get("service")
    client = next((c for c in sandbox().clients.values() if c.allows_service(service)), None)
    if service and client is None:
        return error_page(PORTAL, "未授权的应用：该 service 未在统一认证登记。",
                          "Application not authorized to use CAS: unknown service.")
    account = signed_in(PORTAL)
    if account is None:
        if service and request.args.get("gateway") == "true":
            return redirect(service)   # §2.1.1 gateway: no login, back without a ticket
        return to_login(PORTAL)
    if not service:
        return page(PORTAL, "sandbox/message.html", zh=f"您已登录：{account.name}。", en="You are signed in.")
    ticket = sandbox().store.put("miit-st", {"service": service, "username": account.username}, TICKET_TTL,
                                 prefix="ST-")
    return redirect(add_params_to_uri(service, {"ticket": ticket}))


@bp.get("/cas/serviceValidate")
def service_validate():
    return _validate(with_attributes=False)


@bp.get("/cas/p3/serviceValidate")
def p3_service_validate():
    return _validate(with_attributes=True)


@bp.get("/cas/logout")
def cas_logout():
    return redirect(url_for(f"{PORTAL.id}.logout"))


def _validate(with_attributes: bool):
    if (failed := backchannel_fault(PORTAL.id, "validate")) is not None:
        return failed
    service, ticket = request.args.get("service"), request.args.get("ticket")
    if not service or not ticket:
        return _failure("INVALID_REQUEST", "service and ticket are required")
    issued = sandbox().store.take("miit-st", ticket)   # single use, even when the service is wrong
    if issued is None or faults(PORTAL.id).get("invalid_ticket"):
        return _failure("INVALID_TICKET", f"Ticket {ticket} not recognized")
    if issued["service"] != service:
        return _failure("INVALID_SERVICE", f"Ticket {ticket} does not match supplied service")
    account = sandbox().accounts.get(PORTAL.id, issued["username"])
    attributes = _attributes(account) if with_attributes else ""
    return _xml(f"<cas:authenticationSuccess><cas:user>{escape(account.username)}</cas:user>"
                f"{attributes}</cas:authenticationSuccess>")


def _attributes(account: PortalAccount) -> str:
    values = {
        "name": account.name, "mobile": account.phone,
        "userType": "legal" if account.kind == "legal" else "natural", "certLevel": str(account.level),
        "entName": account.enterprise_name, "creditCode": account.uscc,
        "authenticationDate": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "isFromNewLogin": "true", "longTermAuthenticationRequestTokenUsed": "false",
    }
    items = "".join(f"<cas:{k}>{escape(v)}</cas:{k}>" for k, v in values.items() if v is not None)
    return f"<cas:attributes>{items}</cas:attributes>"


def _failure(code: str, message: str):
    return _xml(f'<cas:authenticationFailure code="{code}">{escape(message)}</cas:authenticationFailure>')


def _xml(body: str):
    return (f'<cas:serviceResponse xmlns:cas="{NS}">{body}</cas:serviceResponse>\n', 200,
            {"Content-Type": "application/xml; charset=utf-8"})
