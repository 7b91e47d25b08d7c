"""``gga client send|fetch``: typer wiring; the work is in gga.client.send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

client_app = typer.Typer(help="A reference client for integrators: send a submission, fetch return files.",
                         no_args_is_help=True)

SenderFile = Annotated[Path, typer.Option("--sender", help="SENDER.json (the demo's: <data>/demo/sender.json)")]
Channel = Annotated[str, typer.Option(help="sftp, ftps or ws")]
Environment = Annotated[str, typer.Option(help="R production, T test, S simulation")]
CA = Annotated[Path | None, typer.Option("--ca", help="verify the FTPS certificate against this PEM (default: "
                                         "trust on first use, pinned in known_ftps.json next to SENDER.json)")]


def _check(channel: str, environment: str) -> None:
    if channel not in ("sftp", "ftps", "ws"):
        raise typer.BadParameter("sftp, ftps or ws", param_hint="--channel")
    if environment not in ("R", "T", "S"):
        raise typer.BadParameter("R, T or S", param_hint="--environment")


@client_app.command()
def send(
    file: Annotated[Path, typer.Argument(help="the FI's content", exists=True, dir_okay=False)],
    sender: SenderFile,
    application: Annotated[str, typer.Option(help="4-letter application code, e.g. DMFA")],
    channel: Channel = "sftp",
    environment: Environment = "T",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the ACRF")] = 60.0,
    ca: CA = None,
    out: Annotated[Path, typer.Option(help="folder the ACRF and its FS are saved in")] = Path(),
    keep: Annotated[bool, typer.Option(help="leave the ACRF on the server (default: picked up)")] = False,
    sequence: Annotated[str | None, typer.Option(help="the name's NNNNN (default: a fresh random one)")] = None,
) -> None:
    """Name, sign and upload FI + FS + GO; wait for the ACRF, check its signature; print the result as JSON.
    Exit 0 accepted, 1 rejected (or a file refused on upload), 2 transport error (or no ACRF in time)."""
    from gga.client.profile import SenderProfile
    from gga.client.send import Options
    from gga.client.send import send as run

    _check(channel, environment)
    result, code = _guarded(lambda: run(SenderProfile.load(sender), file, application, channel,
                                        Options(environment, timeout, ca, out, keep, sequence)))
    typer.echo(json.dumps(result, indent=2))
    raise typer.Exit(code)


@client_app.command()
def fetch(
    sender: SenderFile,
    channel: Channel = "sftp",
    environment: Environment = "T",
    out: Annotated[Path, typer.Option(help="folder the return files are saved in")] = Path(),
    ca: CA = None,
    keep: Annotated[bool, typer.Option(help="leave them on the server (default: picked up)")] = False,
) -> None:
    """Download every return file set (FO/CO + FS + GO) of a channel, check its signature, pick it up."""
    from gga.client.profile import SenderProfile
    from gga.client.send import fetch as run

    _check(channel, environment)
    result, code = _guarded(lambda: run(SenderProfile.load(sender), channel, environment, out, ca, keep))
    typer.echo(json.dumps(result, indent=2))
    raise typer.Exit(code)


def _guarded(action):  # type: ignore[no-untyped-def]
    from gga.client.errors import TRANSPORT, TransportError

    try:
        return action()
    except TransportError as exc:  # SENDER.json unreadable
        return {"result": "error", "errors": [{"id": "", "description": str(exc)}]}, TRANSPORT


@client_app.command()
def assertion(sender: SenderFile) -> None:
    """Print a private_key_jwt client assertion for POST <http>/REST/oauth/v5/token (60 s, usable once), signed
    with SENDER.json's certificate key: for curl or a payroll package that does the OAuth step itself."""
    from gga.client.profile import SenderProfile
    from gga.client.transports import TOKEN_PATH, client_assertion

    profile, code = _guarded(lambda: (SenderProfile.load(sender), 0))
    if code or not profile.can_use("ws"):
        typer.echo("refused: SENDER.json needs certificate, certificate_key and endpoints.http", err=True)
        raise typer.Exit(2)
    typer.echo(client_assertion(profile, profile.http + TOKEN_PATH))
