"""The ``gga`` command: serve, db upgrade, registry import, token, client."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from gga.client.cli import client_app
from kernel.settings import Settings

app = typer.Typer(help="gga-gateway: social-security batch file gateway and its admin API.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
registry_app = typer.Typer(help="The enterprise register extract.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(registry_app, name="registry")
app.add_typer(client_app, name="client")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="data folder [GGA_DATA_DIR, ./var]")]
DbUrl = Annotated[str | None, typer.Option("--database-url", help="[GGA_DATABASE_URL, sqlite under data]")]


def _version(show: bool) -> None:
    if show:
        typer.echo(f"gga-gateway {version('gga-gateway')}")
        raise typer.Exit()


@app.callback()
def main(_: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                         help="print the version and exit")] = False) -> None:
    """gga-gateway: social-security batch file gateway and its admin API."""


def settings_with(**overrides: object) -> Settings:
    """The settings, options over ``GGA_*`` variables; a bad value is refused in one line (exit 2), no traceback."""
    from pydantic import ValidationError

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            typer.echo(f"refused: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="seed the demo enterprise and sender, enable the dev issuer")] = False,
    data_dir: DataDir = None,
    database_url: DbUrl = None,
    http_bind: Annotated[str | None, typer.Option(help="[GGA_HTTP_BIND, 127.0.0.1:8080]")] = None,
    sftp_bind: Annotated[str | None, typer.Option(help="[GGA_SFTP_BIND, 127.0.0.1:8022]")] = None,
    ftp_bind: Annotated[str | None, typer.Option(help="[GGA_FTP_BIND, 127.0.0.1:8021]")] = None,
    ftp_passive_ports: Annotated[str | None, typer.Option(help="[GGA_FTP_PASSIVE_PORTS, 30000-30099]")] = None,
    public_url: Annotated[str | None, typer.Option(
        help="the URL clients use: token audience, demo how-to [GGA_PUBLIC_URL, http://<http bind>]")] = None,
    workers: Annotated[str | None, typer.Option(
        help="processes serving every endpoint on the same ports: a number, or auto (one per core) "
             "[GGA_WORKERS, 1]")] = None,
) -> None:
    """Start every endpoint (admin API + web service, SFTP, FTP/FTPS), in one process or in --workers."""
    from gga.serve import run, worker_count

    settings = settings_with(data_dir=data_dir, database_url=database_url, http_bind=http_bind,
                             sftp_bind=sftp_bind, ftp_bind=ftp_bind, ftp_passive_ports=ftp_passive_ports,
                             public_url=public_url)
    if demo:
        settings = settings.model_copy(update={"dev_issuer": True})
    run(settings, demo=demo, workers=worker_count(workers or str(settings.workers)))


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Apply the migrations."""
    from store.database import upgrade

    settings = settings_with(data_dir=data_dir, database_url=database_url)
    upgrade(settings.resolved_database_url)
    typer.echo("database at head")


@db_app.command("heads")
def db_heads() -> None:
    """Print the migrations' head revision; fail when there is more than one (branches to merge)."""
    from store.database import heads

    found = heads()
    typer.echo(" ".join(found))
    if len(found) != 1:
        typer.echo(f"refused: {len(found)} heads; merge them (alembic merge) into one", err=True)
        raise typer.Exit(1)


@registry_app.command("import")
def registry_import(file: Path, data_dir: DataDir = None, database_url: DbUrl = None) -> None:
    """Load enterprises, persons and legal functions from a JSON extract (idempotent)."""
    from admin_api.registry import import_extract
    from kernel.errors import GGAError
    from store.database import Database, upgrade

    try:
        extract = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # missing, unreadable, not JSON
        typer.echo(f"refused: {file}: not a readable JSON extract ({exc})", err=True)
        raise typer.Exit(2) from None
    settings = settings_with(data_dir=data_dir, database_url=database_url)
    upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        with db.session() as session:
            counts = import_extract(session, extract)
    except GGAError as exc:
        typer.echo(f"refused: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    typer.echo(json.dumps(counts))


@app.command()
def token(
    niss: Annotated[str, typer.Option(help="the person's NISS (token subject)")],
    loa: Annotated[str, typer.Option(help="level of assurance: eid or low")] = "eid",
    role: Annotated[list[str] | None, typer.Option(help="platform role: operator or ops (repeatable)")] = None,
    lifetime: Annotated[int, typer.Option(help="seconds")] = 3600,
    data_dir: DataDir = None,
) -> None:
    """Mint an admin-API token with the development issuer (refused unless it is enabled)."""
    from kernel import identifiers
    from kernel.errors import GGAError
    from keys.tokens import DevIssuer

    settings = settings_with(data_dir=data_dir)
    issuer = DevIssuer(settings.resolved_data_dir)
    if not (settings.dev_issuer or issuer.exists):
        typer.echo("refused: the development issuer is not enabled (run `gga serve --demo` or set "
                   "GGA_DEV_ISSUER=true)", err=True)
        raise typer.Exit(2)
    roles = role or []
    if any(r not in ("operator", "ops") for r in roles):
        typer.echo("refused: roles are operator or ops", err=True)
        raise typer.Exit(2)
    try:
        subject = identifiers.niss(niss)
    except GGAError as exc:
        typer.echo(f"refused: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(issuer.ensure().mint(subject, settings.jwt_audience, loa, roles, lifetime))


if __name__ == "__main__":
    app()
