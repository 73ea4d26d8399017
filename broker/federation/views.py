"""Federated login pages (issue 4 "Pages", DOMAIN rules 10-12).

GET  /federation/start/<id>?next=     -> the upstream portal (state bound to this browser)
GET|POST /federation/callback/<id>    -> signed in | linked notice | conflict | new-account profile
POST /federation/link/<id>            -> link a portal account to the signed-in account
GET|POST /federation/conflict         -> rule 11 username conflict; prove ownership to link
GET|POST /federation/profile          -> rule 11 nothing found: basic info, then a new account
GET  /federation/linked               -> "your accounts were linked automatically" notice
POST /federation/unlink/<n>           -> unlink, except the last way in
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from flask import Blueprint, abort, g, jsonify, redirect, render_template, request, session

from binding.errors import RateLimited
from binding.federation_store import PENDING_TTL_SECONDS, STATE_TTL_SECONDS
from binding.linking import AUTO_LINKED, CONFLICT, SIGNED_IN, UpstreamFacts
from binding.models import Account
from providers.base import ProviderError

from .. import captcha
from ..auth.helpers import DEFAULT_NEXT, keep_draft, next_param, password_login, request_data, safe_next, take_draft
from ..auth.schemas import load
from ..csrf import csrf_exempt
from ..errors import form_page, wants_json
from ..session import current_login, sign_in
from .context import callback_url, federation, linking, linking_on, record_failure, start_limiter, store
from .errors import PendingExpired, StateRejected
from .pages import ACCOUNT_NOTICE_KEY
from .schemas import CompleteProfile, ProveOwnership, SendProfileCode

bp = Blueprint("federation", __name__, url_prefix="/federation")

BROWSER_KEY = "fed_browser"     # binds each state to the browser that started the login
PENDING_KEY = "fed_pending"     # id of the server-side pending identity (conflict / profile)
NOTICE_KEY = "fed_notice"       # the automatic-link notice, shown once


def start_url(provider_id: str, nxt: str = DEFAULT_NEXT) -> str:
    url = "/federation/start/" + quote(provider_id, safe="")
    return url if nxt == DEFAULT_NEXT else url + "?next=" + quote(nxt, safe="")


# --- the upstream round trip -----------------------------------------------------------------
@bp.get("/start/<provider_id>")
def start(provider_id: str):
    """Anonymous, and each hit stores a state record: limited per IP bucket (429 + Retry-After)."""
    decision = start_limiter().acquire(request.remote_addr or "unknown")
    if not decision.allowed:
        raise RateLimited("登录请求过于频繁，请稍后再试", f"Too many sign-in attempts; try again in {decision.retry_after} s",
                          retry_after=decision.retry_after)
    return _begin(provider_id, next_param(), mode="login")


@bp.post("/link/<provider_id>")
def link(provider_id: str):
    login = current_login()
    if login is None:
        return redirect("/login?next=/account", code=303)
    return _begin(provider_id, "/account", mode="link", account_id=login.account_id)


def _begin(provider_id: str, nxt: str, *, mode: str, account_id: int | None = None):
    adapter = _adapter(provider_id)
    g.federation_retry = "/account" if mode == "link" else start_url(provider_id, nxt)
    browser = session.get(BROWSER_KEY)
    if not browser:   # set once per browser session: an unchanged cookie is not signed again
        browser = session[BROWSER_KEY] = secrets.token_urlsafe(16)
    state = secrets.token_urlsafe(32)
    try:
        started = adapter.login_url(callback_url(provider_id), state)
    except ProviderError as exc:
        record_failure(provider_id, exc)
        raise
    store().put("state", {"provider": provider_id, "opaque": dict(started.opaque), "next": nxt, "mode": mode,
                          "account_id": account_id, "browser": browser}, STATE_TTL_SECONDS, token=state)
    return redirect(started.url, code=303)


@bp.route("/callback/<provider_id>", methods=["GET", "POST"])
@csrf_exempt   # the upstream sends the browser here; the single-use state bound to it is the check
def callback(provider_id: str):
    adapter = _adapter(provider_id)
    params = {key: request.values.get(key) for key in request.values}
    record = store().take("state", params.get("state"))
    nxt = safe_next(record.get("next")) if record else DEFAULT_NEXT
    g.federation_retry = start_url(provider_id, nxt)
    try:
        facts = _verified(adapter, record, params, provider_id)
    except (ProviderError, StateRejected) as exc:
        record_failure(provider_id, exc)
        raise
    if record["mode"] == "link":
        return _link_to_signed_in(facts, record)
    return _login(facts, nxt)


def _verified(adapter, record, params, provider_id: str) -> UpstreamFacts:
    """The identity of a callback whose state this browser started for this portal."""
    if not _state_ok(record, provider_id):
        raise StateRejected(g.federation_retry)
    facts = UpstreamFacts.from_identity(adapter.handle_callback(record["opaque"], params))
    if facts.provider_id != provider_id:
        raise StateRejected(g.federation_retry)
    return facts


def _state_ok(record, provider_id: str) -> bool:
    if record is None:
        return False
    browser = session.get(BROWSER_KEY) or ""
    return (hmac.compare_digest(str(record.get("browser", "")).encode(), browser.encode())
            and hmac.compare_digest(str(record.get("provider", "")).encode(), provider_id.encode()))


def _login(facts: UpstreamFacts, nxt: str):
    with linking() as (db, svc):
        outcome = svc.resolve(facts, federation().portal_name(facts.provider_id))
        if outcome.kind in (SIGNED_IN, AUTO_LINKED):
            _sign_in(db, outcome.account, outcome.upstream.id, facts)
    if outcome.kind == SIGNED_IN:
        return _done(nxt)
    if outcome.kind == AUTO_LINKED:
        session[NOTICE_KEY] = {"provider": facts.provider_id, "username": outcome.account.username, "next": nxt}
        return _done("/federation/linked")
    extra = {"reason": outcome.reason, "username": outcome.account.username} if outcome.kind == CONFLICT else \
        {"suggested": outcome.suggested_username}
    _hold(facts, nxt, kind=outcome.kind, **extra)
    return _done("/federation/conflict" if outcome.kind == CONFLICT else "/federation/profile")


def _link_to_signed_in(facts: UpstreamFacts, record: dict):
    login = current_login()
    if login is None or login.account_id != record.get("account_id"):
        raise StateRejected("/account")
    with linking() as (db, svc):
        svc.link(db.get(Account, login.account_id), facts, "session", federation().portal_name(facts.provider_id))
    session[ACCOUNT_NOTICE_KEY] = "linked"
    return _done("/account")


def _sign_in(db, account: Account, upstream_id: int, facts: UpstreamFacts, methods=("fed",)) -> None:
    """Level and kind of THIS login, as the upstream certified them (rules 8, 9)."""
    sign_in(db, account, methods=methods, cert_level=facts.cert_level, account_kind=facts.account_kind,
            upstream_identity_id=upstream_id)


def _done(url: str):
    if wants_json():
        return jsonify(status="ok", redirect=url)
    return redirect(url, code=303)


# --- pending identities (server-side; the browser only holds their id) -------------------------
def _hold(facts: UpstreamFacts, nxt: str, **extra) -> None:
    store().drop("pending", session.get(PENDING_KEY))
    session[PENDING_KEY] = store().put("pending", {"facts": facts.as_dict(), "next": nxt, **extra},
                                       PENDING_TTL_SECONDS)


def _pending(kind: str) -> tuple[dict, UpstreamFacts]:
    record = store().peek("pending", session.get(PENDING_KEY))
    if record is None or record.get("kind") != kind:
        raise PendingExpired()
    return record, UpstreamFacts.from_dict(record["facts"])


def _pending_context(record: dict, facts: UpstreamFacts) -> dict:
    return {"facts": facts, "portal": federation().portal_name(facts.provider_id), "record": record,
            "restart_url": start_url(facts.provider_id, safe_next(record.get("next")))}


@bp.route("/conflict", methods=["GET", "POST"])
def conflict():
    """Rule 11, same username: rename at the portal, have the unit admin rename the local
    account, or prove ownership of the local account by signing in to it, then link."""
    record, facts = _pending(CONFLICT)
    context = _pending_context(record, facts)
    if request.method == "GET":
        return render_template("federation/conflict.html", **context)
    form_page("federation/conflict.html", **context)
    fields = load(ProveOwnership, request_data())
    captcha_passed = captcha.verify_if_given(fields.get("captcha"))
    pending_id = session.get(PENDING_KEY)

    def link_and_sign_in(db, account: Account) -> None:
        upstream = linking_on(db).link_with_password(account, facts, context["portal"])
        _sign_in(db, account, upstream.id, facts, methods=("fed", "pwd"))

    # The password is verified with no transaction open; the link and the sign-in are written
    # with the login's success, in one transaction (binding.password_flows).
    password_login(fields["username"], fields["password"], captcha_passed=captcha_passed, then=link_and_sign_in)
    store().drop("pending", pending_id)
    return _done(safe_next(record.get("next")))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """Rule 11, nothing found: the user completes the basic info; then the new account. Without
    a verified, free phone from the portal (WeChat, QQ, Weibo...) the user proves one by SMS
    code (rule 1: every account has a verified phone, and so a second way in); the image
    captcha comes before the code is sent (rule 3)."""
    record, facts = _pending("new_account")
    context = _pending_context(record, facts)
    if request.method == "GET":
        draft, notice = take_draft("federation.profile")
        form = {"username": record.get("suggested") or "", "display_name": facts.display_name or "", **draft}
        return render_template("federation/profile.html", form=form, notice=notice, **context)
    form_page("federation/profile.html", **context)
    data = request_data()
    if data.get("action") == "send_code":
        return _send_profile_code(data, context["portal"])
    fields = load(CompleteProfile, data)
    with linking() as (db, svc):
        account, upstream = svc.create_account(facts, provider_name=context["portal"], **fields)
        pending_id = session.get(PENDING_KEY)
        _sign_in(db, account, upstream.id, facts)
    store().drop("pending", pending_id)
    return _done(safe_next(record.get("next")))


def _send_profile_code(data, portal: str):
    fields = load(SendProfileCode, data)
    captcha.require(fields["captcha"])
    with linking() as (_db, svc):
        svc.send_profile_code(fields["phone"], portal)
    if wants_json():
        return jsonify(status="code_sent")
    keep_draft("federation.profile", "code_sent",
               {k: data.get(k) for k in ("phone", "username", "display_name", "email")})
    return redirect("/federation/profile", code=303)


@bp.get("/linked")
def linked_notice():
    notice = session.pop(NOTICE_KEY, None)
    if not notice or current_login() is None:
        return redirect("/account", code=303)
    return render_template("federation/linked.html", portal=federation().portal_name(notice["provider"]),
                           username=notice["username"], next=safe_next(notice.get("next")))


@bp.post("/unlink/<int:identity_id>")
def unlink(identity_id: int):
    login = current_login()
    if login is None:
        return redirect("/login?next=/account", code=303)
    with linking() as (db, svc):
        svc.unlink(db.get(Account, login.account_id), identity_id)
    session[ACCOUNT_NOTICE_KEY] = "unlinked"
    return _done("/account")


def _adapter(provider_id: str):
    adapter = federation().adapter(provider_id)
    if adapter is None:
        abort(404)
    return adapter
