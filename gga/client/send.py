"""``gga client send`` and ``gga client fetch``: a submission from FI to verified ACRF, and picking up returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gga.client import acrf, signing
from gga.client.errors import REJECTED, TRANSPORT, Refused, TransportError
from gga.client.profile import CHANNELS, SenderProfile
from gga.client.transports import TIMEOUT_S, Transport, open_transport
from kernel.errors import GGAError

CHANNEL_OF = {"SFTP": "sftp", "FTP": "ftps", "FTPS": "ftps", "WS": "ws"}  # the web service's acrf_channel
POLL_S = 0.5


@dataclass
class Options:
    environment: str = "T"
    timeout: float = 60.0
    ca: Path | None = None  # the FTPS server's certificate (else trust on first use)
    out: Path = Path()
    keep: bool = False  # leave the ACRF on the server (default: picked up)
    sequence: str | None = None


@dataclass
class Connections:
    """Transports opened as they are needed and kept; one that fails is closed, noted and opened again next time
    (a poll of one channel must not end the wait for an ACRF that may come on another)."""

    profile: SenderProfile
    ca: Path | None
    opened: dict[str, Transport] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def get(self, channel: str) -> Transport:
        if channel not in self.opened:
            self.opened[channel] = open_transport(self.profile, channel, self.ca)
        return self.opened[channel]

    def poll(self, channel: str, environment: str) -> tuple[Transport | None, list[str]]:
        """The channel's return files; none, noted in ``failed``, when it cannot be reached just now."""
        try:
            transport = self.get(channel)
            return transport, transport.returns(environment)
        except TransportError as exc:
            self.failed[channel] = str(exc)
            dropped = self.opened.pop(channel, None)
            if dropped is not None:
                dropped.close()
            return None, []

    def close(self) -> None:
        for transport in self.opened.values():
            transport.close()


def gateway_certificate(profile: SenderProfile) -> bytes:
    """The published certificate the gateway signs return files with (GET /api/v1/gateway/certificate)."""
    try:
        answer = httpx.get(f"{profile.http}/api/v1/gateway/certificate", timeout=TIMEOUT_S)
        answer.raise_for_status()
    except httpx.HTTPError as exc:
        raise TransportError(f"gateway certificate: {exc!r}") from exc
    return answer.content


def send(profile: SenderProfile, file: Path, application: str, channel: str, options: Options) -> tuple[dict, int]:
    """Name, sign, upload FI + FS + GO, wait for the ACRF and check it; (the result as JSON, the exit code)."""
    names = signing.names(application, profile.sender_number, options.environment, options.sequence)
    result: dict[str, Any] = {"channel": channel, "go": names.go, "files": [names.fi, names.fs, names.go]}
    connections = Connections(profile, options.ca)
    try:
        fi = file.read_bytes()
        if profile.certificate is None or profile.certificate_key is None:
            raise TransportError("SENDER.json names no certificate and certificate_key to sign the FI with")
        fs = signing.fs_content(fi, profile.certificate.read_bytes(), profile.certificate_key.read_bytes())
        published = gateway_certificate(profile)
        transport = connections.get(channel)
        answer: dict[str, Any] = {}
        for name, data in ((names.fi, fi), (names.fs, fs), (names.go, b"")):
            answer = transport.upload(names.environment, name, data)
        result["ticket"] = answer.get("ticket")  # the web service's GO answer: the ticket and the ACRF's channel
        result["acrf_channel"] = CHANNEL_OF.get(str(answer.get("acrf_channel") or "").upper())
        found = wait_for_acrf(connections, names, result, options)
        return _finish(result, names.environment, found, published, connections, options)
    except Refused as exc:
        return result | {"result": "refused", "errors": [{"id": exc.code, "description": str(exc)}]}, REJECTED
    except (TransportError, OSError) as exc:
        return result | {"result": "error", "errors": [{"id": "", "description": str(exc)}]}, TRANSPORT
    finally:
        connections.close()


def _where(connections: Connections, result: dict) -> list[str]:
    """The channel the web service named; else every channel SENDER.json can reach (the application's preferred
    channel, which gets the ACRF, need not be the one used)."""
    if result.get("acrf_channel"):
        return [result["acrf_channel"]]
    return [c for c in CHANNELS if connections.profile.can_use(c)]


def wait_for_acrf(connections: Connections, names: signing.Names, result: dict,
                  options: Options) -> tuple[str, str, bytes, acrf.Acknowledgement]:
    """Poll the return folders until the ACRF answering this GO (FileName, and ReferenceNbr when known) is there."""
    seen: set[tuple[str, str]] = set()  # ACRFs of other submissions, read once
    deadline = time.monotonic() + options.timeout
    while True:
        for channel in _where(connections, result):
            transport, returned = connections.poll(channel, names.environment)
            for name in acrf.complete_sets(returned, "ACRF"):
                if transport is None or (channel, name) in seen:
                    continue
                seen.add((channel, name))
                payload = transport.read(names.environment, name)
                ack = acrf.parse(acrf.unpacked(name, payload))
                if ack and ack.file_name == names.go and result.get("ticket") in (None, ack.ticket):
                    return channel, name, payload, ack
        if time.monotonic() >= deadline:
            failed = "; ".join(f"{c}: {why}" for c, why in connections.failed.items())
            raise TransportError(f"no ACRF for {names.go} within {options.timeout:g} s"
                                 + (f" (could not poll {failed})" if failed else ""))
        time.sleep(POLL_S)


def _finish(result: dict, environment: str, found: tuple[str, str, bytes, acrf.Acknowledgement], published: bytes,
            connections: Connections, options: Options) -> tuple[dict, int]:
    channel, name, payload, ack = found
    transport = connections.get(channel)
    fs_name, go_name = acrf.companions(name)
    fs = transport.read(environment, fs_name)
    try:
        signing.verify(payload, fs, published)
    except GGAError as exc:
        raise TransportError(f"the ACRF {name} is not signed by the gateway's published certificate: "
                             f"{exc.code}: {exc.message}") from exc
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / name).write_bytes(payload)
    (options.out / fs_name).write_bytes(fs)
    if not options.keep:
        for picked in (name, fs_name, go_name):
            transport.delete(environment, picked)
    result |= {"ticket": ack.ticket, "result": "accepted" if ack.accepted else "rejected",
               "result_code": ack.result_code, "errors": ack.errors, "acrf_channel": channel,
               "acrf_file": str((options.out / name).resolve()), "signature": "verified"}
    return result, 0 if ack.accepted else REJECTED


def fetch(profile: SenderProfile, channel: str, environment: str, out: Path, ca: Path | None = None,
          keep: bool = False) -> tuple[dict, int]:
    """Download every complete return set (FO/CO, FS, GO) into ``out``, check its signature, pick it up."""
    connections = Connections(profile, ca)
    files: list[dict[str, Any]] = []
    try:
        transport = connections.get(channel)
        published = gateway_certificate(profile)
        out.mkdir(parents=True, exist_ok=True)
        for name in acrf.complete_sets(transport.returns(environment)):
            files.append(_fetch_one(transport, environment, name, out, published, keep))
        # a set whose signature does not verify is not the gateway's as it sent it: told (exit 2, as `send` does)
        # and left on the gateway to fetch again
        forged = any(f["signature"] != "verified" for f in files)
        return {"channel": channel, "environment": environment, "files": files}, TRANSPORT if forged else 0
    except (Refused, TransportError, OSError) as exc:
        failure = {"result": "error", "errors": [{"id": "", "description": str(exc)}]}
        return {"channel": channel, "environment": environment, "files": files} | failure, TRANSPORT
    finally:
        connections.close()


def _fetch_one(transport: Transport, environment: str, name: str, out: Path, published: bytes,
               keep: bool) -> dict[str, Any]:
    fs_name, go_name = acrf.companions(name)
    payload, fs = transport.read(environment, name), transport.read(environment, fs_name)
    try:
        signing.verify(payload, fs, published)
        signature = "verified"
    except GGAError as exc:
        signature = f"{exc.code}: {exc.message}"
    for local, data in ((name, payload), (fs_name, fs), (go_name, b"")):
        (out / local).write_bytes(data)
    if not keep and signature == "verified":  # an unverified set stays on the gateway
        for picked in (name, fs_name, go_name):
            transport.delete(environment, picked)
    return {"name": name, "path": str((out / name).resolve()), "size": len(payload), "signature": signature}
