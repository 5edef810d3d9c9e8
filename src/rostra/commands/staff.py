"""`rostra user`: staff accounts from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rostra.commands.opening import operator, services
from rostra.core.errors import RostraError

if TYPE_CHECKING:
    from rostra.services.staff import StaffService


@contextmanager
def _staff(ctx: click.Context) -> Iterator[StaffService]:
    """The staff accounts, on a database closed when the block ends; refusals said in
    one line."""
    from rostra.services.staff import StaffService

    with services(ctx.obj.settings) as opened:
        try:
            yield StaffService(opened.db, opened.comments.hashing.ips, opened.sealer)
        except RostraError as exc:
            raise click.ClickException(exc.detail) from None


def _password(password_file: str | None) -> str:
    if password_file:
        text = Path(password_file).read_text(encoding="utf-8")
        return text.rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@click.group()
def user_group() -> None:
    """Staff accounts: administrators, site owners and moderators."""


@user_group.command("add")
@click.argument("name")
@click.option("--admin", "is_admin", is_flag=True, help="A global administrator.")
@click.option("--site", "site_id", help="Give a role on this site.")
@click.option("--role", type=click.Choice(["owner", "moderator"]), default="moderator",
              show_default=True, help="The role on --site.")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False),
              help="Read the password from this file instead of asking.")
@click.pass_context
def user_add(ctx: click.Context, name: str, is_admin: bool, site_id: str | None, role: str,
             password_file: str | None) -> None:
    """Create a staff account (asks for its password)."""
    with _staff(ctx) as staff:
        account = staff.create_user(name, _password(password_file), is_admin=is_admin,
                                    role=(site_id, role) if site_id else None,
                                    audited=operator())
    roles = ", ".join(f"{r} of {s}" for s, r in sorted(account.roles.items()))
    click.echo(f"created {account.name}" + (" (admin)" if account.is_admin else "")
               + (f": {roles}" if roles else ""))


@user_group.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List staff accounts and their roles."""
    with _staff(ctx) as staff:
        accounts = staff.list_users()
    for account in accounts:
        roles = " ".join(f"{s}:{r}" for s, r in sorted(account.roles.items()))
        flags = ",".join(f for f, on in (("admin", account.is_admin), ("totp", account.totp),
                                         ("disabled", account.disabled)) if on)
        click.echo(f"{account.name}\t{flags or '-'}\t{roles or '-'}")


@user_group.command("grant")
@click.argument("name")
@click.option("--site", "site_id", required=True, help="The site.")
@click.option("--role", type=click.Choice(["owner", "moderator", "none"]), required=True,
              help="The role on the site; none takes it away.")
@click.pass_context
def user_grant(ctx: click.Context, name: str, site_id: str, role: str) -> None:
    """Give a staff member a role on a site (or take it away)."""
    with _staff(ctx) as staff:
        account = staff.by_name(name)
        account = staff.grant(account.id, site_id, None if role == "none" else role,
                              audited=operator())
    click.echo(f"{account.name}: " + (", ".join(f"{r} of {s}" for s, r in
                                                 sorted(account.roles.items())) or "no roles"))


@user_group.command("reader")
@click.argument("name")
@click.option("--site", "site_id", required=True, help="The site.")
@click.option("--subject", help="The reader account's sign-in id: email:ADDRESS, "
              "PROVIDER:SUB, or the site's single sign-on id.")
@click.option("--remove", is_flag=True, help="Untie the account instead.")
@click.pass_context
def user_reader(ctx: click.Context, name: str, site_id: str, subject: str | None,
                remove: bool) -> None:
    """Tie the reader account a staff member comments with to them: while they have a
    role on the site, their comments carry the "Staff" badge. Without --subject, list
    the accounts tied to them."""
    with _staff(ctx) as staff:
        account = staff.by_name(name)
        if subject is None:
            for site, tied in staff.linked_readers(account.id):
                if site == site_id:
                    click.echo(tied)
            return
        if remove:
            if not staff.unlink_reader(site_id, subject, audited=operator()):
                raise click.ClickException(f"{subject} is not tied to a staff member")
            click.echo(f"untied {subject} on {site_id}")
            return
        staff.link_reader(account.id, site_id, subject, audited=operator())
    note = "" if site_id in account.roles else f" (no badge until {name} has a role on it)"
    click.echo(f"{subject} on {site_id} is {account.name}'s{note}")


@user_group.command("password")
@click.argument("name")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def user_password(ctx: click.Context, name: str, password_file: str | None) -> None:
    """Set a staff member's password (ends their sessions)."""
    with _staff(ctx) as staff:
        account = staff.by_name(name)
        staff.set_password(account.id, _password(password_file), audited=operator())
    click.echo(f"password of {account.name} changed")


@user_group.command("totp-off")
@click.argument("name")
@click.pass_context
def user_totp_off(ctx: click.Context, name: str) -> None:
    """Turn a staff member's second factor (TOTP) off: when their authenticator is lost,
    or its secret cannot be read after secret_key changed. They set up a new one on
    their account page after signing in."""
    with _staff(ctx) as staff:
        account = staff.by_name(name)
        staff.disable_totp(account.id, audited=operator())
    click.echo(f"second factor of {account.name} is off" + (
        "" if account.totp else " (it had none)"))
