"""`decision tokens add|list` and `decision tls check|dev-certs`: make and check what secures the ports."""

from __future__ import annotations

from pathlib import Path

import click

from decision.conditions.errors import SpecFileError
from decision.security.certificates import CertificateError, CertificateFiles, load_certificates
from decision.security.devca import LOCAL_HOSTS, DevCertificateAuthority
from decision.security.tokens import SCOPES, add_token, load_tokens

_FILE = click.Path(dir_okay=False, path_type=Path)
_TOKENS_FILE = click.option(
    "--file",
    "path",
    type=_FILE,
    envvar="DECISION_TOKENS_PATH",
    required=True,
    help="the tokens file the server reads [env DECISION_TOKENS_PATH]",
)


@click.group("tokens")
def tokens() -> None:
    """Client tokens: the server keeps only their SHA-256 hashes and scopes."""


@tokens.command("add")
@click.argument("name")
@click.option(
    "--scopes",
    required=True,
    help=f"comma-separated, among {', '.join(SCOPES)} (decide: Decide, DecideBatch; report: ReportOutcome*, "
    "RecordEvents; admin: Forget and RPCs not given a scope)",
)
@_TOKENS_FILE
def add(name: str, scopes: str, path: Path) -> None:
    """Make a token for client NAME: print it once (stdout), append its hash line to the file.

    A running server picks the new line up within --security-poll-seconds. To revoke a
    token, delete its line.
    """
    chosen = [scope.strip() for scope in scopes.split(",") if scope.strip()]
    unknown = sorted(set(chosen) - set(SCOPES))
    if not chosen or unknown:
        raise click.BadParameter(f"use {', '.join(SCOPES)}; unknown: {', '.join(unknown) or '(none given)'}")
    try:
        token = add_token(path, name, chosen)
    except SpecFileError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:  # pydantic: a name the file format does not allow
        raise click.BadParameter(f"{name!r}: use 1-64 letters, digits, '_', '.', '-'", param_hint="NAME") from exc
    click.echo(f"added client {name} ({', '.join(chosen)}) to {path}; its token, shown only now:", err=True)
    click.echo(token)


@tokens.command("list")
@_TOKENS_FILE
def list_(path: Path) -> None:
    """Check the tokens file and list its clients (names, scopes, hash prefixes)."""
    try:
        table = load_tokens(path)
    except SpecFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for entry in table.entries:
        click.echo(f"{entry.name:<24} {','.join(entry.scopes):<22} sha256 {entry.sha256[:12]}…")
    click.echo(f"{len(table.entries)} clients", err=True)


@click.group("tls")
def tls() -> None:
    """Check certificate files before a rotation; make throwaway ones to try TLS locally."""


@tls.command("check")
@click.option("--cert", type=_FILE, required=True, help="server certificate chain (PEM)")
@click.option("--key", type=_FILE, required=True, help="its private key (PEM)")
@click.option("--client-ca", type=_FILE, help="CA for client certificates (mutual TLS)")
def check(cert: Path, key: Path, client_ca: Path | None) -> None:
    """Check the files as the server does at start and at reload. Exit 0 if it would use them."""
    try:
        bundle = load_certificates(CertificateFiles(cert, key, client_ca))
    except CertificateError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"OK {bundle.describe()}")


@tls.command("dev-certs")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", "hosts", multiple=True, help=f"name the server certificate carries (besides {LOCAL_HOSTS})")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True, help="validity")
def dev_certs(folder: Path, hosts: tuple[str, ...], days: int) -> None:
    """Write a throwaway CA, a server and a client certificate into FOLDER (for trials, never production)."""
    if (folder / "ca.crt").exists():
        raise click.ClickException(f"{folder / 'ca.crt'} exists: choose an empty folder")
    authority = DevCertificateAuthority(valid_days=days)
    ca = authority.write_ca(folder / "ca.crt")
    server = authority.issue(folder, "server", hosts=(*LOCAL_HOSTS, *hosts), valid_days=days)
    client = authority.issue(folder, "client", server=False, client=True, hosts=(), valid_days=days)
    for path in (ca, server.cert, server.key, client.cert, client.key):
        click.echo(path)
