"""`rostra site`: sites, the origins that may embed them, their single sign-on, sign-in
offer and their own sign-in providers (`rostra site move` is in ``commands.importing``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from rostra.cli import FeatureCommands
from rostra.commands.opening import operator
from rostra.commands.opening import services as open_services

if TYPE_CHECKING:
    from rostra.cli import CliState


@click.group(cls=FeatureCommands)
def site_group() -> None:
    """Sites: the pages that may embed discussions."""


@site_group.command("add")
@click.argument("site_id")
@click.option("--name", required=True, help="Display name.")
@click.option("--origin", "origins", multiple=True,
              help="Allowed origin, e.g. https://news.example.com (repeatable).")
@click.pass_obj
def site_add(state: CliState, site_id: str, name: str, origins: tuple[str, ...]) -> None:
    """Create a site."""
    from rostra.core.errors import RostraError

    with open_services(state.settings) as services:
        try:
            created = services.sites.create(site_id, name, list(origins), audited=operator())
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"created site {created.id} ({created.name}): {', '.join(created.origins) or '-'}")


@site_group.command("list")
@click.pass_obj
def site_list(state: CliState) -> None:
    """List sites."""
    with open_services(state.settings) as services:
        listed = services.sites.list()
    for item in listed:
        click.echo(f"{item.id}\t{item.name}\t{' '.join(item.origins)}")


@site_group.group("origin")
def site_origin() -> None:
    """The origins (scheme://host[:port]) whose pages may embed a site's discussions."""


def _with_sites(state: CliState, change: Callable[[Any], Any]) -> Any:
    """``change(SiteService)``, its refusals said in one line."""
    from rostra.core.errors import RostraError

    with open_services(state.settings) as services:
        try:
            return change(services.sites)
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None


@site_origin.command("list")
@click.argument("site_id")
@click.pass_obj
def site_origin_list(state: CliState, site_id: str) -> None:
    """Print the origins SITE_ID allows, one a line."""
    for origin in _with_sites(state, lambda sites: sites.get(site_id)).origins:
        click.echo(origin)


@site_origin.command("add")
@click.argument("site_id")
@click.argument("origin")
@click.pass_obj
def site_origin_add(state: CliState, site_id: str, origin: str) -> None:
    """Allow ORIGIN (e.g. https://news.example.com) to embed SITE_ID's discussions; refused
    when another site allows it already."""
    updated = _with_sites(state, lambda sites: sites.add_origin(site_id, origin,
                                                                audited=operator()))
    click.echo(f"{site_id} allows: {', '.join(updated.origins)}")


@site_origin.command("remove")
@click.argument("site_id")
@click.argument("origin")
@click.pass_obj
def site_origin_remove(state: CliState, site_id: str, origin: str) -> None:
    """Stop allowing ORIGIN on SITE_ID (its pages can no longer post or read by origin)."""
    updated = _with_sites(state, lambda sites: sites.remove_origin(site_id, origin,
                                                                   audited=operator()))
    click.echo(f"{site_id} allows: {', '.join(updated.origins) or 'no origin'}")


@site_group.command("sso")
@click.argument("site_id")
@click.option("--rotate", is_flag=True, help="Replace the secret (old payloads stop working).")
@click.option("--off", is_flag=True, help="Turn single sign-on off for the site.")
@click.pass_obj
def site_sso(state: CliState, site_id: str, rotate: bool, off: bool) -> None:
    """Single sign-on: print the secret the site's server signs readers with."""
    from rostra.core.errors import RostraError

    with open_services(state.settings) as services:
        try:
            services.sites.get(site_id)
            if off:
                services.accounts.disable(site_id)
                click.echo(f"single sign-on is off for {site_id}")
                return
            secret = services.accounts.make_secret(site_id, rotate=rotate)
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(secret)
    click.echo(f"(the sign-on secret of {site_id}: keep it on the site's server, never in a "
               "page; see docs/sso.md)", err=True)


@site_group.command("sign-in")
@click.argument("site_id")
@click.option("--email/--no-email", default=None, help="Offer email sign-in links.")
@click.option("--passkeys/--no-passkeys", default=None, help="Offer passkeys.")
@click.option("--providers", default=None, metavar="NAMES",
              help="The server's providers to offer, comma-separated ('' for none).")
@click.option("--all-providers", is_flag=True, help="Offer every provider of the server.")
@click.pass_obj
def site_sign_in(state: CliState, site_id: str, email: bool | None, passkeys: bool | None,
                 providers: str | None, all_providers: bool) -> None:
    """How SITE_ID's readers may sign in: show it, or change it."""
    from rostra.core.errors import RostraError

    with open_services(state.settings) as services:
        try:
            current = services.sites.settings_of(site_id).sign_in.to_json()
            if email is not None:
                current["email"] = email
            if passkeys is not None:
                current["passkeys"] = passkeys
            if all_providers:
                current["providers"] = None
            elif providers is not None:
                current["providers"] = [p.strip() for p in providers.split(",") if p.strip()]
            if (email is not None or passkeys is not None or all_providers
                    or providers is not None):
                services.sites.update(site_id, settings={"sign_in": current},
                                      audited=operator())
            chosen = services.sites.settings_of(site_id).sign_in
            own = services.site_providers.of_site(site_id)
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
    server = [p.name for p in state.settings.oidc_providers]
    offered = server if chosen.providers is None else [p for p in chosen.providers if p in server]
    click.echo(f"email links: {'on' if chosen.email else 'off'}")
    click.echo(f"passkeys: {'on' if chosen.passkeys else 'off'}")
    click.echo(f"server providers: {', '.join(offered) or 'none'}"
               + (" (all)" if chosen.providers is None else ""))
    click.echo(f"own providers: {', '.join(f'{site_id}.{p.name}' for p in own) or 'none'}")


@site_group.group("provider")
def site_provider() -> None:
    """OpenID Connect providers of a site's own (beside the server's)."""


@site_provider.command("add")
@click.argument("site_id")
@click.argument("name")
@click.option("--label", required=True, help='The button: "Sign in with LABEL".')
@click.option("--issuer", required=True, help="The issuer URL (https).")
@click.option("--client-id", required=True)
@click.option("--client-secret-file", type=click.File("r"), default=None,
              help="Read the client secret from FILE ('-': standard input); none: a "
                   "public client (PKCE only).")
@click.option("--scopes", default="openid profile email", show_default=True)
@click.pass_obj
def site_provider_add(state: CliState, site_id: str, name: str, label: str, issuer: str,
                      client_id: str, client_secret_file: Any, scopes: str) -> None:
    """Add provider NAME to SITE_ID; prints the redirect URI to register with it."""
    from rostra.core.errors import RostraError

    secret = client_secret_file.read().strip() if client_secret_file is not None else ""
    with open_services(state.settings) as services:
        try:
            services.site_providers.add(site_id, name, label, issuer, client_id, secret, scopes)
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
    base = state.settings.public_url.rstrip("/") or "<public_url>"
    click.echo(f"added {site_id}.{name}; its redirect URI: {base}/auth/{site_id}.{name}/callback")


@site_provider.command("list")
@click.argument("site_id")
@click.pass_obj
def site_provider_list(state: CliState, site_id: str) -> None:
    """SITE_ID's own providers (never their secrets)."""
    with open_services(state.settings) as services:
        usable = services.site_providers.of_site(site_id)
        unusable = services.site_providers.unusable(site_id)
    for p in usable:
        click.echo(f"{site_id}.{p.name}\t{p.label}\t{p.issuer}\t{p.client_id}")
    for p, problem in unusable:
        click.echo(f"{site_id}.{p.name}\t{p.label}\t{p.issuer}\t{p.client_id}\t"
                   f"NOT OFFERED: {problem}")


@site_provider.command("remove")
@click.argument("site_id")
@click.argument("name")
@click.pass_obj
def site_provider_remove(state: CliState, site_id: str, name: str) -> None:
    """Remove provider NAME from SITE_ID (its readers' accounts stay)."""
    from rostra.core.errors import RostraError

    with open_services(state.settings) as services:
        try:
            services.site_providers.remove(site_id, name.removeprefix(f"{site_id}."))
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(f"removed {site_id}.{name.removeprefix(f'{site_id}.')}")


# Loaded only when named, as the top level's feature commands are.
site_group.features["move"] = ("rostra.commands.importing", "site_move_command")
