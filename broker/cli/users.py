"""``broker users unlock|disable|enable LOGIN``: support actions on local accounts.

LOGIN is anything a person signs in with (username, phone, email, USCC). The actions go through
the accounts domain (``binding.accounts``) so they are audited like any other, with actor "cli".
``disable`` ends the account's sessions the way the app does (``broker.session``): the portals
it signed into get back-channel logout tokens and its OAuth grants are revoked.
"""
from __future__ import annotations

import click

from binding.db import transaction
from config import system_clock

from ..services import instance_folder, services_of
from ..storage import connect_redis
from .context import domain_errors, run_in_transaction, settings_from_environment

ACTOR = "cli"


@click.group("users")
def users_group() -> None:
    """Local accounts: unlock after lockout, disable, enable."""


def _run(action):
    """Call ``action(service, db, settings)`` in one transaction; a refusal exits 1 with its message."""
    from binding.accounts import build_account_service

    def build(db, settings):
        redis = connect_redis(settings.redis_url, instance_folder(settings))
        service = build_account_service(db, settings=settings, redis=redis, clock=system_clock,
                                        ip=None, request_id=None)
        return action(service, db, settings)
    return run_in_transaction(build)


@users_group.command("unlock")
@click.argument("login")
def unlock(login: str) -> None:
    """Clear the password lockout of LOGIN (DOMAIN rule 4)."""
    cleared = _run(lambda svc, db, settings: svc.unlock(login, actor=ACTOR))
    click.echo(f"{login}: unlocked" if cleared else f"{login}: was not locked")


@users_group.command("disable")
@click.argument("login")
def disable(login: str) -> None:
    """Disable LOGIN: every login path refuses it, its live sessions end now (portals are told
    by back-channel logout) and its tokens are revoked."""
    from binding.accounts import build_account_service

    from ..app import create_app
    from ..oidc import revoke_account_tokens
    from ..session import end_account_sessions

    app = create_app(settings_from_environment())
    services = services_of(app)
    try:
        with domain_errors(), app.app_context():
            with transaction(services.sessions) as db:
                svc = build_account_service(db, settings=services.settings, redis=services.redis,
                                            clock=services.clock)
                account = svc.set_disabled(login, True, actor=ACTOR)
                ended = end_account_sessions(db, account.id, "disabled")
                revoke_account_tokens(db, account.id, "account_disabled")
            app.extensions["tongxing.oidc"].backchannel.wait()   # the logout tokens leave before we exit
    finally:
        services.dispose()
    click.echo(f"{login}: disabled ({len(ended)} session(s) ended)")


@users_group.command("enable")
@click.argument("login")
def enable(login: str) -> None:
    """Enable LOGIN again."""
    _run(lambda svc, db, settings: svc.set_disabled(login, False, actor=ACTOR))
    click.echo(f"{login}: enabled")


COMMANDS = [users_group]
