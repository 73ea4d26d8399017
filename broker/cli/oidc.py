"""``broker clients add|list|show|remove`` and ``broker keys rotate|list`` (issue 3).

``clients add`` prints the client as JSON with its secret, once: only a hash is stored.
Clients declared in the TOML file (``[[clients]]``) are listed too but are changed there.
"""
from __future__ import annotations

import json

import click

from binding.oauth import (
    ClientDirectory, ClientPolicy, ClientSpec, KeyStore, client_from_spec, client_json, config_client_specs,
    oidc_settings,
)
from binding.oauth.config import GRANT_TYPES, SUPPORTED_ALGS, client_spec_problems
from config import system_clock

from .context import run_in_transaction, settings_from_environment


def _run(action):
    """``action(directory, keys)`` in one transaction; a refusal exits 1 with its message."""
    def build(db, settings):
        now = system_clock()
        config_clients = [client_from_spec(s, source="config", now=now) for s in config_client_specs(settings)]
        return action(ClientDirectory(db, system_clock, config_clients),
                      KeyStore(db, oidc_settings(settings), system_clock))
    return run_in_transaction(build)


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group("clients")
def clients_group() -> None:
    """Downstream portals (OIDC clients) and their policies."""


@clients_group.command("add")
@click.argument("client_id")
@click.option("--name", default="", help="Display name shown to users.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeatable).")
@click.option("--public", is_flag=True, help="A public client (native app): no secret, PKCE required.")
@click.option("--post-logout-redirect-uri", "post_logout", multiple=True, help="Exact post-logout URI (repeatable).")
@click.option("--backchannel-logout-uri", default=None, help="Where logout tokens are POSTed.")
@click.option("--grant-type", "grant_types", multiple=True, type=click.Choice(GRANT_TYPES),
              help="Allowed grant (repeatable; default authorization_code + refresh_token).")
@click.option("--scope", "scopes", multiple=True, help="Allowed scope (repeatable; default openid profile phone).")
@click.option("--alg", default=None, type=click.Choice(SUPPORTED_ALGS), help="Token signing algorithm.")
@click.option("--min-cert-level", default=1, type=click.IntRange(1, 5), help="Minimum certification level (rule 8).")
@click.option("--account-kind", default="any", type=click.Choice(["any", "legal", "personal"]),
              help="Required account kind (rule 9).")
@click.option("--requires-certified-enterprise", is_flag=True, help="Require a certified enterprise binding.")
@click.option("--enterprise-category", "categories", multiple=True,
              help="Allowed enterprise category (repeatable; rule 24).")
@click.option("--first-party", is_flag=True, help="Skip the consent page.")
def add(client_id, name, redirect_uris, public, post_logout, backchannel_logout_uri, grant_types, scopes, alg,
        min_cert_level, account_kind, requires_certified_enterprise, categories, first_party) -> None:
    """Register CLIENT_ID and print it as JSON with its secret (shown only now)."""
    settings = settings_from_environment()
    spec = ClientSpec(
        client_id=client_id, name=name or client_id, redirect_uris=tuple(redirect_uris), public=public,
        post_logout_redirect_uris=tuple(post_logout), backchannel_logout_uri=backchannel_logout_uri,
        grant_types=tuple(grant_types) or ("authorization_code", "refresh_token"),
        scopes=tuple(s for value in scopes for s in value.split()) or ("openid", "profile", "phone"),
        signing_alg=alg or oidc_settings(settings).default_alg,
        policy=ClientPolicy(min_cert_level=min_cert_level, account_kind=account_kind,
                            requires_certified_enterprise=requires_certified_enterprise,
                            enterprise_categories=tuple(categories), first_party=first_party),
    )
    # A generated secret is checked after it exists; here only the shape of the client.
    problems = [p for p in client_spec_problems(spec, client_id, production=settings.production)
                if not p.endswith("needs secret or secret_sha256")]
    if problems:
        raise click.UsageError("; ".join(problems))

    def action(directory, keys):
        row, secret = directory.add(spec)
        return client_json(row, secret)

    _echo_json(_run(action))


@clients_group.command("list")
def list_clients() -> None:
    """One line per client: id, type, source, policy."""
    def action(directory, keys):
        return [client_json(c) for c in directory.list()]

    for c in _run(action):
        policy = c["policy"]
        click.echo(f"{c['client_id']}\t{c['client_type']}\t{c['source']}\tlevel>={policy.get('min_cert_level', 1)}"
                   f"\tkind={policy.get('account_kind', 'any')}\t{c['name']}")


@clients_group.command("show")
@click.argument("client_id")
def show(client_id) -> None:
    """CLIENT_ID as JSON (never its secret)."""
    def action(directory, keys):
        client = directory.get(client_id)
        if client is None:
            raise click.ClickException(f"no client {client_id}")
        return client_json(client)

    _echo_json(_run(action))


@clients_group.command("remove")
@click.argument("client_id")
def remove(client_id) -> None:
    """Remove CLIENT_ID (clients from the config file are removed there)."""
    _run(lambda directory, keys: directory.remove(client_id))
    click.echo(f"{client_id}: removed")


@click.group("keys")
def keys_group() -> None:
    """Token signing keys (published at /jwks.json)."""


@keys_group.command("rotate")
@click.option("--alg", default="ES256", type=click.Choice(SUPPORTED_ALGS))
def rotate(alg) -> None:
    """Add a new signing key for ALG; the old one stays in the JWKS until its tokens expire."""
    kid = _run(lambda directory, keys: keys.rotate(alg).kid)
    click.echo(f"{alg}: new signing key {kid}")


@keys_group.command("list")
def list_keys() -> None:
    """kid, algorithm, created, retired (and whether still published)."""
    def action(directory, keys):
        published = {r.kid for r in keys.published()}
        return [(r.kid, r.alg, r.created_at.isoformat(), r.retired_at.isoformat() if r.retired_at else "active",
                 "published" if r.kid in published else "withdrawn") for r in keys.all()]

    for row in _run(action):
        click.echo("\t".join(row))


COMMANDS = [clients_group, keys_group]
