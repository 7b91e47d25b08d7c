"""Rules of guide VI: one active sender per domain, its technical user, channels and preferred channels."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api import audit
from admin_api.identity import Caller
from admin_api.policy import Action
from admin_api.sender.schemas import ChannelApplicationIn, ChannelIn, ChannelPatch, SenderIn, SenderPatch
from admin_api.user.service import PASSWORD_POLICY, authorize_domain, check_applications
from kernel import mailboxes
from kernel.catalogue import APPLICATIONS, require_known
from kernel.clock import utcnow
from kernel.errors import ErrorCode, GGAError
from keys.certificates import describe, expired, load_certificate, pem, stored_certificate, weaknesses
from keys.passwords import Passwords
from keys.ssh import parse_public_key
from store.models import ChannelApplication, ChannelCertificate, Domain, Sender, SenderChannel, Submission

TECHNICAL_USER = re.compile(r"EXP[A-Za-z0-9_-]{3,27}")
CHANNEL_ORDER = ("SFTP", "FTP", "WS")  # where a preferred channel moves when its channel goes


def active_sender(session: Session, domain_id: int) -> Sender | None:
    return session.scalar(select(Sender).where(Sender.domain_id == domain_id, Sender.status != "deleted"))


def _require_sender(session: Session, domain_id: int) -> Sender:
    sender = active_sender(session, domain_id)
    if sender is None:
        raise GGAError(ErrorCode.NO_ACTIVE_SENDER, details={"domain_id": domain_id})
    return sender


def read(session: Session, caller: Caller, domain_id: int) -> dict[str, Any]:
    authorize_domain(session, caller, Action.READ_SENDER, domain_id)
    return sender_view(_require_sender(session, domain_id))


def _new_number(session: Session) -> str:
    while True:
        number = str(100000 + secrets.randbelow(900000))
        if session.scalar(select(Sender.id).where(Sender.number == number)) is None:
            return number


def _check_technical_user(session: Session, name: str) -> None:
    if not TECHNICAL_USER.fullmatch(name):
        raise GGAError(ErrorCode.TECHNICAL_USER_INVALID, details={"field": "technical_user"})
    if session.scalar(select(Sender.id).where(Sender.technical_user_key == name.lower())) is not None:
        raise GGAError(ErrorCode.TECHNICAL_USER_TAKEN, details={"technical_user": name})


def _check_password(password: str) -> None:
    if not PASSWORD_POLICY.acceptable(password):
        raise GGAError(ErrorCode.PASSWORD_TOO_WEAK, details={"field": "password"})


def create(session: Session, caller: Caller, domain_id: int, body: SenderIn, passwords: Passwords) -> dict[str, Any]:
    """Création d'un expéditeur: contact, technical user ``EXP...``, one or more channels."""
    domain, _ = authorize_domain(session, caller, Action.MANAGE_SENDER, domain_id)
    if active_sender(session, domain.id) is not None:
        raise GGAError(ErrorCode.SENDER_EXISTS, details={"domain_id": domain.id})
    _check_technical_user(session, body.technical_user)
    _check_password(body.password)
    types = [c.type for c in body.channels]
    if len(set(types)) != len(types):
        # a malformed body (nothing exists yet to conflict with): 422, not CHANNEL_EXISTS's 409
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"channels": types}, key="channel.each_once")
    channels = [_new_channel(domain, c) for c in body.channels]
    sender = Sender(number=_new_number(session), domain_id=domain.id, contact=body.contact.model_dump(mode="json"),
                    technical_user=body.technical_user, technical_user_key=body.technical_user.lower(),
                    password_hash=passwords.hash(body.password), channels=channels)
    settle_preferred(sender, _requests(body.channels), move=False)
    session.add(sender)
    session.flush()
    audit.record(session, caller, "sender.created", f"sender:{sender.number}", domain.enterprise_number,
                 after=_audit_view(sender))
    return sender_view(sender)


def _new_channel(domain: Domain, body: ChannelIn) -> SenderChannel:
    channel = SenderChannel(type=body.type, plain_ftp=_plain_ftp(body.type, body.plain_ftp))
    if body.type == "SFTP":
        if not body.ssh_public_key:
            raise GGAError(ErrorCode.SSH_KEY_INVALID, details={"field": "ssh_public_key"}, key="channel.ssh_needed")
        _set_ssh_key(channel, body.ssh_public_key)
    elif body.ssh_public_key:  # as a patch says: ignored silently, the sender believed it registered
        raise GGAError(ErrorCode.SSH_KEY_INVALID, details={"field": "ssh_public_key"}, key="channel.ssh_only_sftp")
    _add_certificate(channel, body.certificate)
    codes = check_applications(domain, [a.code for a in body.applications])
    _refuse_empty(body.type, codes)
    channel.applications = [ChannelApplication(code=c, preferred=False) for c in codes]
    return channel


def _refuse_empty(channel_type: str, codes: list[str]) -> None:
    """The guide's FTP and SFTP channel screens require their list of applications (« Liste des applications * »);
    the web service's has none."""
    if channel_type in ("FTP", "SFTP") and not codes:
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "applications", "channel": channel_type},
                       key="channel.applications_needed", params={"channel": channel_type})


def _plain_ftp(channel_type: str, wanted: bool) -> bool:
    """FTP without TLS, only on the FTP channel: asked for another, it is refused (it was taken and ignored, and
    the caller believed it done)."""
    if wanted and channel_type != "FTP":
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "plain_ftp"}, key="channel.plain_ftp_only_ftp")
    return wanted


def _set_ssh_key(channel: SenderChannel, text: str) -> None:
    key = parse_public_key(text)
    channel.ssh_public_key, channel.ssh_fingerprint = key.openssh, key.fingerprint


def _add_certificate(channel: SenderChannel, text: str) -> None:
    cert = load_certificate(text)
    weak = weaknesses(cert)
    if weak:  # those registered before this rule stay until rollover, flagged in the sender's view
        raise GGAError(ErrorCode.CERTIFICATE_WEAK, f"The certificate cannot be a signer: {'; '.join(weak)}.",
                       {"field": "certificate", "weaknesses": weak})
    info = describe(cert)
    if any(c.fingerprint == info.fingerprint_sha256 for c in channel.certificates):
        return  # registered already (a repeated request, the demo's start): nothing to do, expired or not
    if expired(cert, utcnow()):  # it could sign nothing the gateway accepts (one that expires later is kept)
        raise GGAError(ErrorCode.CERTIFICATE_EXPIRED, details={"field": "certificate", "expires":
                       info.expires.isoformat()}, key="certificate.expired")
    channel.certificates.append(ChannelCertificate(pem=pem(cert), fingerprint=info.fingerprint_sha256,
                                                   not_after=info.expires))


def _requests(channels: list[ChannelIn]) -> dict[str, set[str]]:
    """Per application code, the channel types asked to be its preferred one."""
    return _preferred_asked([(c.type, c.applications) for c in channels])


def _preferred_asked(items: list[tuple[str, list[ChannelApplicationIn]]]) -> dict[str, set[str]]:
    asked: dict[str, set[str]] = {}
    for channel_type, apps in items:
        for a in apps:
            if a.preferred:
                asked.setdefault(a.code.upper(), set()).add(channel_type)
    return asked


def settle_preferred(sender: Sender, asked: dict[str, set[str]], move: bool) -> None:
    """Exactly one preferred channel per application among the channels that carry it (canal préférentiel).

    An explicit request wins; otherwise the current preferred channel stays; otherwise the only carrier is
    preferred; with several carriers and no choice, ``move`` picks the first in SFTP, FTP, WS order (a removed
    channel's applications) or the request is refused.
    """
    require_known(set(asked))
    carriers: dict[str, list[SenderChannel]] = {}
    for channel in sender.channels:
        for app in channel.applications:
            carriers.setdefault(app.code, []).append(channel)
    problems = {}
    for code, channels in carriers.items():
        chosen = _choose(code, channels, asked.get(code, set()), move)
        if chosen is None:
            problems[code] = sorted(c.type for c in channels)
            continue
        for channel in channels:
            for app in channel.applications:
                if app.code == code:
                    app.preferred = channel is chosen
    stray = {code: sorted(types) for code, types in asked.items() if code not in carriers}
    if problems or stray:
        raise GGAError(ErrorCode.PREFERRED_CHANNEL_INVALID, details={"applications": problems | stray})


def _choose(code: str, channels: list[SenderChannel], asked: set[str], move: bool) -> SenderChannel | None:
    if asked:
        picked = [c for c in channels if c.type in asked]
        return picked[0] if len(asked) == 1 and picked else None
    current = [c for c in channels if any(a.code == code and a.preferred for a in c.applications)]
    if len(current) == 1:
        return current[0]
    if len(channels) == 1 or move:
        return sorted(channels, key=lambda c: CHANNEL_ORDER.index(c.type))[0]
    return None


def update(session: Session, caller: Caller, domain_id: int, body: SenderPatch, passwords: Passwords) -> dict:
    domain, _ = authorize_domain(session, caller, Action.MANAGE_SENDER, domain_id)
    sender = _require_sender(session, domain.id)
    before = _audit_view(sender)
    if body.contact is not None:  # only the contact's fields sent change; a cleared one is null
        sender.contact = sender.contact | body.contact.model_dump(mode="json", exclude_unset=True)
    if body.password is not None:
        _check_password(body.password)
        sender.password_hash = passwords.hash(body.password)
    if body.status is not None:
        sender.status = body.status
    if body.technical_user_status is not None:
        sender.technical_user_status = body.technical_user_status
    after = _audit_view(sender)
    if after != before or body.password is not None:  # a patch that changes nothing is no change to audit
        sender.updated_at = utcnow()
        audit.record(session, caller, "sender.updated", f"sender:{sender.number}", domain.enterprise_number, before,
                     after | {"password_changed": body.password is not None})
    return sender_view(sender)


def delete(session: Session, caller: Caller, domain_id: int, spool_dir: Path | None = None) -> None:
    """The sender stops; its number and technical user name stay reserved (the transfer log refers to them).
    Refused while return files wait in any of its channels' folders (under ``spool_dir``) or are being delivered
    there, as for removing one channel: its login goes with it, and nothing would reach them again."""
    domain, _ = authorize_domain(session, caller, Action.MANAGE_SENDER, domain_id)
    sender = _require_sender(session, domain.id)
    # its channels locked: a decision holding one (FOR SHARE, until its ACRF's channel is chosen and committed)
    # commits first and is seen below; a later one reads the sender again after that lock, finds it gone and
    # answers SENDER_BLOCKED (gateway/pipeline.py)
    session.execute(select(SenderChannel.id).where(SenderChannel.sender_id == sender.id).with_for_update())
    for channel in sender.channels:
        _refuse_if_waiting(spool_dir, sender, channel.type, key="sender.returns_waiting")
    in_flight = list(session.scalars(select(Submission.ticket).where(  # their ACRFs are on their way
        Submission.sender_id == sender.id, Submission.status.in_(("received", "decided"))).limit(20)))
    if in_flight:
        raise GGAError(ErrorCode.RETURNS_WAITING, details={"submissions": in_flight}, key="sender.returns_waiting")
    before = _audit_view(sender)
    sender.status, sender.updated_at = "deleted", utcnow()
    audit.record(session, caller, "sender.deleted", f"sender:{sender.number}", domain.enterprise_number, before)


def add_channel(session: Session, caller: Caller, domain_id: int, body: ChannelIn) -> dict:
    """Ajout d'un canal."""
    domain, _ = authorize_domain(session, caller, Action.MANAGE_SENDER, domain_id)
    sender = _require_sender(session, domain.id)
    if any(c.type == body.type for c in sender.channels):
        raise GGAError(ErrorCode.CHANNEL_EXISTS, details={"type": body.type})
    sender.channels.append(_new_channel(domain, body))
    settle_preferred(sender, _requests([body]), move=False)
    session.flush()
    audit.record(session, caller, "sender.channel.added", f"sender:{sender.number}:{body.type}",
                 domain.enterprise_number, after=_audit_view(sender))
    return sender_view(sender)


def _channel(sender: Sender, channel_type: str) -> SenderChannel:
    channel = next((c for c in sender.channels if c.type == channel_type), None)
    if channel is None:
        raise GGAError(ErrorCode.CHANNEL_UNKNOWN, details={"type": channel_type})
    return channel


def update_channel(session: Session, caller: Caller, domain_id: int, channel_type: str, body: ChannelPatch) -> dict:
    domain, _ = authorize_domain(session, caller, Action.MANAGE_SENDER, domain_id)
    sender = _require_sender(session, domain.id)
    channel = _channel(sender, channel_type)
    before = _audit_view(sender)
    if body.add_certificate:
        _add_certificate(channel, body.add_certificate)
    if body.remove_certificate:
        _remove_certificate(channel, body.remove_certificate.lower())
    if "ssh_public_key" in body.model_fields_set and body.ssh_public_key is None and channel.type == "SFTP":
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"field": "ssh_public_key"}, key="channel.ssh_kept")
    if body.ssh_public_key is not None:
        if channel.type != "SFTP":
            raise GGAError(ErrorCode.SSH_KEY_INVALID, key="channel.ssh_only_sftp")
        _set_ssh_key(channel, body.ssh_public_key)
    if body.plain_ftp is not None:
        channel.plain_ftp = _plain_ftp(channel.type, body.plain_ftp)
    changes = _change_applications(domain, sender, channel, body)
    session.flush()
    if (after := _audit_view(sender)) != before:  # a patch that changes nothing is no change to audit
        audit.record(session, caller, "sender.channel.updated", f"sender:{sender.number}:{channel.type}",
                     domain.enterprise_number, before, after)
    return sender_view(sender) | {"changes": changes}


def _preferred_channels(sender: Sender) -> dict[str, str]:
    return {a.code: c.type for c in sender.channels for a in c.applications if a.preferred}


def _change_applications(domain: Domain, sender: Sender, channel: SenderChannel, body: ChannelPatch) -> dict:
    """Only the applications named change. One removed here while preferred here moves its preference to the
    next channel carrying it (SFTP, FTP, WS); one no other channel carries is refused (a sender keeps its
    applications). Answers what was added, removed and whose preferred channel changed."""
    if "applications" in body.model_fields_set:  # it used to replace the list, silently dropping the rest
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={
            "field": "applications", "use": ["add_applications", "remove_applications", "preferred_for"]},
            key="channel.applications_replaced")
    added = check_applications(domain, body.add_applications or [])
    removing = {c.upper() for c in body.remove_applications or []}
    if removing & set(added):
        raise GGAError(ErrorCode.VALIDATION_ERROR, details={"applications": sorted(removing & set(added))},
                       key="channel.add_and_remove")
    held = {a.code for a in channel.applications}
    _refuse_orphans(sender, channel, removing & held)
    before = _preferred_channels(sender)
    kept = [a for a in channel.applications if a.code not in removing]
    if removing & held:  # only a removal is refused for it (a channel left empty before this rule may be patched)
        _refuse_empty(channel.type, [a.code for a in kept] + added)
    channel.applications = kept + [ChannelApplication(code=c, preferred=False) for c in added if c not in held]
    settle_preferred(sender, {c.upper(): {channel.type} for c in body.preferred_for or []}, move=True)
    after = _preferred_channels(sender)
    return {"added": [c for c in added if c not in held], "removed": sorted(removing & held),
            "preferred_channel": {c: t for c, t in sorted(after.items()) if before.get(c) != t}}


def _refuse_orphans(sender: Sender, channel: SenderChannel, leaving: set[str]) -> None:
    """APPLICATION_LAST_CHANNEL when an application ``leaving`` this channel is carried by no other channel."""
    elsewhere = {a.code for c in sender.channels if c is not channel for a in c.applications}
    alone = sorted(leaving - elsewhere)
    if alone:
        raise GGAError(ErrorCode.APPLICATION_LAST_CHANNEL, details={"applications": alone, "channel": channel.type},
                       key="channel.orphans")


def _remove_certificate(channel: SenderChannel, fingerprint: str) -> None:
    cert = next((c for c in channel.certificates if c.fingerprint == fingerprint), None)
    if cert is None:
        raise GGAError(ErrorCode.NOT_FOUND, details={"fingerprint": fingerprint}, key="not_found.certificate")
    if len(channel.certificates) == 1:
        raise GGAError(ErrorCode.CERTIFICATE_REQUIRED, details={"fingerprint": fingerprint},
                       key="channel.last_certificate")
    channel.certificates.remove(cert)


def remove_channel(session: Session, caller: Caller, domain_id: int, channel_type: str,
                   spool_dir: Path | None = None) -> dict:
    """Applications preferred on the removed channel move to another channel carrying them; an application
    that only this channel carries is refused (add it to another channel first), and so is a channel whose return
    folders (under ``spool_dir``) still hold files: no other channel would reach them."""
    domain, _ = authorize_domain(session, caller, Action.MANAGE_SENDER, domain_id)
    sender = _require_sender(session, domain.id)
    channel = _channel(sender, channel_type)
    if len(sender.channels) == 1:
        raise GGAError(ErrorCode.CHANNEL_REQUIRED, key="channel.last")
    _refuse_orphans(sender, channel, {a.code for a in channel.applications})
    _refuse_if_waiting(spool_dir, sender, channel.type)
    before = _audit_view(sender)
    sender.channels.remove(channel)
    settle_preferred(sender, {}, move=True)
    session.flush()  # the row deleted: on PostgreSQL this waits for a decision holding it (FOR SHARE) to commit
    _refuse_if_delivering(session, sender, channel.type)
    audit.record(session, caller, "sender.channel.removed", f"sender:{sender.number}:{channel_type}",
                 domain.enterprise_number, before, _audit_view(sender))
    return sender_view(sender)


def _refuse_if_waiting(spool_dir: Path | None, sender: Sender, channel_type: str, key: str | None = None) -> None:
    """Return files not picked up from the channel's folders: RETURNS_WAITING, naming them (20 at most)."""
    waiting = mailboxes.returns_waiting(spool_dir, sender.number, channel_type) if spool_dir else []
    if waiting:
        raise GGAError(ErrorCode.RETURNS_WAITING, details={"channel": channel_type, "count": len(waiting),
                                                            "files": waiting[:20]}, key=key)


def _refuse_if_delivering(session: Session, sender: Sender, channel_type: str) -> None:
    """A submission decided with its ACRF for this channel, not yet closed: the ACRF is about to land in its folders
    (refused as for files already there). Read after the channel's row is deleted: a decision made meanwhile has
    committed by then, and one made later finds the channel gone and chooses another (gateway/pipeline.py)."""
    delivering = list(session.scalars(select(Submission.ticket).where(
        Submission.sender_id == sender.id, Submission.status == "decided",
        Submission.delivered_channel == channel_type).limit(20)))
    if delivering:
        raise GGAError(ErrorCode.RETURNS_WAITING, details={"channel": channel_type, "submissions": delivering})


def _audit_view(s: Sender) -> dict[str, Any]:
    return {"number": s.number, "status": s.status, "technical_user": s.technical_user,
            "technical_user_status": s.technical_user_status, "contact": dict(s.contact or {}),
            "channels": {c.type: {"applications": [f"{a.code}{'*' if a.preferred else ''}" for a in c.applications],
                                  "certificates": [x.fingerprint for x in c.certificates],
                                  "ssh": c.ssh_fingerprint, "plain_ftp": bool(c.plain_ftp)} for c in s.channels}}


def _certificate_view(c: ChannelCertificate) -> dict[str, Any]:
    cert = stored_certificate(c.pem)
    return describe(cert).as_json() | {"weaknesses": weaknesses(cert)}


def channel_view(c: SenderChannel) -> dict[str, Any]:
    certificates = [_certificate_view(x) for x in c.certificates]
    return {"type": c.type, "connection_type": c.connection_type, "plain_ftp": c.plain_ftp,
            "ssh_public_key": {"loaded": True, "fingerprint": c.ssh_fingerprint,
                               "key": c.ssh_public_key} if c.ssh_public_key else None,
            "certificate": max(certificates, key=lambda x: x["expires"]) if certificates else None,
            "certificates": certificates,
            "applications": [{"code": a.code, "name": APPLICATIONS[a.code].name_fr, "preferred": a.preferred}
                             for a in c.applications]}


def sender_view(s: Sender) -> dict[str, Any]:
    apps: dict[str, dict[str, Any]] = {}
    for c in s.channels:
        for a in c.applications:
            entry = apps.setdefault(a.code, {"code": a.code, "name": APPLICATIONS[a.code].name_fr, "channels": [],
                                             "preferred_channel": None})
            entry["channels"].append(c.type)
            if a.preferred:
                entry["preferred_channel"] = c.type
    return {"sender_number": s.number, "domain_id": s.domain_id, "status": s.status, "contact": s.contact,
            "technical_user": {"name": s.technical_user, "status": s.technical_user_status},
            "channels": [channel_view(c) for c in s.channels],
            "applications": sorted(apps.values(), key=lambda a: a["code"]),
            "created_at": s.created_at.isoformat()}
