"""Guide VI in the console: a domain's sender ("expéditeur").

Without one, a wizard in sections (contact person, technical user, channels with their certificate, SSH key and
applications, preferred channels) leads to the guide's confirmation screen; nothing is saved before « Confirmer ».
The confirmation screen is what ``service.create`` answers in a transaction rolled back (the same checks, the same
certificate description), and carries the request, encrypted, to « Confirmer ». With a sender, its page: block or
unblock it, change a channel's applications, choose preferred channels, remove a channel, add one (« Ajout d'un
canal », with the same confirmation screen). Every action is the /api/v1 service's call; this module only reads
forms, places refusals next to their fields and renders.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from admin_api.console.forms import FORM, build, refused
from admin_api.console.labels import label
from admin_api.console.web import PREFIX, Signed, done, language, render, secret, services, signed_in
from admin_api.http import RowId
from admin_api.policy import Action
from admin_api.sender import service
from admin_api.sender.schemas import ChannelIn, ChannelPatch, SenderIn, SenderPatch
from admin_api.user.service import authorize_domain, get_domain
from kernel.catalogue import APPLICATIONS
from kernel.errors import ErrorCode, GGAError
from kernel.i18n import translate
from kernel.settings import Settings
from keys.certificates import expired, load_certificate, weaknesses

router = APIRouter(prefix="/domains/{domain_id}/sender")
TYPES = ("FTP", "SFTP", "WS")
CONTACT = ("last_name", "first_name", "title", "function", "language", "phone", "fax", "mobile")
EMAILS = ("email1", "email2", "email3")
UPLOAD_LIMIT = 64 * 1024  # a certificate or an SSH key is a few kB
PENDING_TTL_S = 3600  # the confirmation screen's request stays valid an hour
_PLACES = {ErrorCode.TECHNICAL_USER_INVALID: "technical_user", ErrorCode.TECHNICAL_USER_TAKEN: "technical_user",
           ErrorCode.PASSWORD_TOO_WEAK: "password", ErrorCode.SSH_KEY_INVALID: "SFTP.ssh_public_key",
           ErrorCode.SSH_KEY_TOO_WEAK: "SFTP.ssh_public_key", ErrorCode.SENDER_EXISTS: FORM}


class _DryRun(Exception):
    """Ends the confirmation's transaction (rolled back) with what ``create`` answered."""

    def __init__(self, view: dict[str, Any]):
        self.view = view


def _page_path(domain_id: int) -> str:
    return f"{PREFIX}/domains/{domain_id}/sender"


# -- the page: the wizard, or the sender ---------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
def sender_page(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    with services(request).db.read() as session:
        try:
            view = service.read(session, who.caller, domain_id)
        except GGAError as err:
            if err.code != ErrorCode.NO_ACTIVE_SENDER:
                raise
            return _wizard(request, session, who, domain_id, _blank(), {})
        return _sender(request, session, domain_id, view, {})


def _domain(session: Session, domain_id: int, lang: str) -> dict[str, Any]:
    """The guide's header (Dénomination, numéro d'entreprise, qualité) and the domain's applications."""
    domain = get_domain(session, domain_id)
    apps = [(a.code, app_name(a.code, lang)) for a in domain.applications]
    return {"id": domain.id, "name": domain.name, "identifier": domain.identifier,
            "enterprise_number": domain.enterprise_number, "enterprise_name": domain.enterprise.name,
            "applications": apps}


def app_name(code: str, lang: str) -> str:
    app = APPLICATIONS[code]
    return app.name_in(lang)


def _wizard(request: Request, session: Session, who: Signed, domain_id: int, values: dict[str, Any],
            errors: dict[str, str], status: int = 200) -> Response:
    authorize_domain(session, who.caller, Action.MANAGE_SENDER, domain_id)
    domain = _domain(session, domain_id, language(request))
    return render(request, "senders/wizard.html", status, domain=domain, values=values, errors=errors,
                  types=TYPES)


def _sender(request: Request, session: Session, domain_id: int, view: dict[str, Any], errors: dict[str, str],
            status: int = 200, add: dict[str, Any] | None = None) -> Response:
    domain = _domain(session, domain_id, language(request))
    missing = [t for t in TYPES if t not in {c["type"] for c in view["channels"]}]
    add = add or {"type": missing[0] if missing else "", "certificate": "", "ssh_public_key": "", "applications": [],
                  "preferred": []}
    return render(request, "senders/sender.html", status, domain=domain, sender=view, errors=errors,
                  missing=missing, add=add, app_name=lambda code: app_name(code, language(request)))


# -- the wizard's form, both ways -----------------------------------------------------------------------------------
def _blank() -> dict[str, Any]:
    values: dict[str, Any] = {k: "" for k in (*CONTACT, *EMAILS, "technical_user", "technical_user_confirm")}
    values |= {"title": "Mr", "language": "fr", "channels": [], "preferred": {}, "FTP.plain_ftp": False}
    for t in TYPES:
        values |= {f"{t}.certificate": "", f"{t}.applications": []}
    return values | {"SFTP.ssh_public_key": ""}


async def _uploaded(form: FormData, name: str, errors: dict[str, str], field: str, lang: str) -> str | None:
    """A file input's content as text (DER as base64, which the service reads); None when no file was chosen."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    raw = await upload.read(UPLOAD_LIMIT + 1)
    if len(raw) > UPLOAD_LIMIT:
        errors[field] = label("senders.error.file_too_large", lang)
        return ""
    if raw[:1] == b"\x30":  # DER: a binary .cer
        return base64.b64encode(raw).decode()
    return raw.decode("utf-8", errors="replace").strip()


async def _values(form: FormData, errors: dict[str, str], lang: str) -> dict[str, Any]:
    values = _blank() | {k: str(form.get(k) or "").strip() for k in (*CONTACT, *EMAILS, "technical_user",
                                                                         "technical_user_confirm")}
    values |= {"password": str(form.get("password") or ""), "password_confirm": str(form.get("password_confirm") or ""),
               "channels": [t for t in TYPES if t in form.getlist("channels")], "FTP.plain_ftp": bool(form.get(
                   "FTP.plain_ftp"))}
    for t in TYPES:
        sent = await _uploaded(form, f"{t}.certificate_file", errors, f"{t}.certificate", lang)
        values[f"{t}.certificate"] = sent if sent is not None else str(form.get(f"{t}.certificate") or "").strip()
        values[f"{t}.applications"] = [str(c) for c in form.getlist(f"{t}.applications")]
    sent = await _uploaded(form, "SFTP.ssh_key_file", errors, "SFTP.ssh_public_key", lang)
    values["SFTP.ssh_public_key"] = sent if sent is not None else str(form.get("SFTP.ssh_public_key") or "").strip()
    values["preferred"] = {k.removeprefix("preferred."): str(v) for k, v in form.items()
                           if k.startswith("preferred.") and v in TYPES}
    return values


def _body(values: dict[str, Any]) -> dict[str, Any]:
    """The API's ``SenderIn`` body: the form names one preferred channel per application."""
    channels = []
    for t in values["channels"]:
        apps = [{"code": c} | ({"preferred": True} if values["preferred"].get(c) == t else {})
                for c in values[f"{t}.applications"]]
        channel: dict[str, Any] = {"type": t, "certificate": values[f"{t}.certificate"], "applications": apps}
        if t == "SFTP":
            channel["ssh_public_key"] = values["SFTP.ssh_public_key"]
        if t == "FTP" and values["FTP.plain_ftp"]:
            channel["plain_ftp"] = True
        channels.append(channel)
    contact = {k: values[k] for k in CONTACT if values[k]} | {"emails": [values[e] for e in EMAILS if values[e]]}
    return {"contact": contact, "technical_user": values["technical_user"], "password": values["password"],
            "channels": channels}


def _from_body(body: dict[str, Any]) -> dict[str, Any]:
    """Back from the confirmation screen: the form as it was sent (passwords typed again)."""
    contact = body["contact"]
    values = _blank() | {k: contact.get(k) or "" for k in CONTACT}
    values |= {e: m for e, m in zip(EMAILS, contact.get("emails", []), strict=False)}
    values |= {"technical_user": body["technical_user"], "technical_user_confirm": body["technical_user"],
               "channels": [c["type"] for c in body["channels"]]}
    for c in body["channels"]:
        t = c["type"]
        values[f"{t}.certificate"] = c["certificate"]
        values[f"{t}.applications"] = [a["code"] for a in c["applications"]]
        values["preferred"] |= {a["code"]: t for a in c["applications"] if a.get("preferred")}
        values["SFTP.ssh_public_key"] = c.get("ssh_public_key") or values["SFTP.ssh_public_key"]
        values["FTP.plain_ftp"] = values["FTP.plain_ftp"] or bool(c.get("plain_ftp"))
    return values


def _checked(values: dict[str, Any], lang: str) -> tuple[SenderIn | None, dict[str, str]]:
    """The body as the API would validate it, plus the guide's « introduisez deux fois »."""
    errors = {}
    if values["technical_user"] != values["technical_user_confirm"]:
        errors["technical_user_confirm"] = label("senders.error.user_confirm", lang)
    if values["password"] != values["password_confirm"]:
        errors["password_confirm"] = label("senders.error.password_confirm", lang)
    if not values["channels"]:
        errors["channels"] = label("senders.error.no_channel", lang)
    body, invalid = build(SenderIn, _body(values), lang)
    for name, message in invalid.items():  # the form's own words first (« choisissez au moins un canal »)
        errors.setdefault(_field_of(name, values["channels"]), message)
    return (body if not errors else None), errors


def _field_of(name: str, types: list[str]) -> str:
    """A body path (``contact.emails.0``, ``channels.1.certificate``) to the form's field."""
    parts = name.split(".")
    if parts[0] == "contact" and len(parts) > 1:
        return f"email{int(parts[2]) + 1}" if parts[1] == "emails" and len(parts) > 2 else (
            "email1" if parts[1] == "emails" else parts[1])
    if parts[0] == "channels" and len(parts) > 2 and parts[1].isdigit() and int(parts[1]) < len(types):
        return f"{types[int(parts[1])]}.{parts[2]}"
    return "channels" if parts[0] == "channels" else parts[0]


def _placed(err: GGAError, values: dict[str, Any], lang: str) -> dict[str, str]:
    """A refusal of ``create`` next to the field it is about."""
    message = err.localized(lang)
    if err.code in _PLACES:
        return {_PLACES[err.code]: message}
    if err.code in (ErrorCode.CERTIFICATE_MALFORMED, ErrorCode.CERTIFICATE_WEAK, ErrorCode.CERTIFICATE_EXPIRED):
        return {f"{_bad_certificate(values)}.certificate": message}
    if err.code == ErrorCode.PREFERRED_CHANNEL_INVALID:
        return {f"preferred.{code}": message for code in err.details.get("applications", {})} or {FORM: message}
    if err.code in (ErrorCode.APPLICATION_NOT_IN_DOMAIN, ErrorCode.APPLICATION_UNKNOWN) and values["channels"]:
        return {f"{values['channels'][0]}.applications": message}
    return refused(err, lang)


def _bad_certificate(values: dict[str, Any]) -> str:
    """Which channel's certificate ``create`` refused (it names none): the first that does not read or is weak."""
    for t in values["channels"]:
        try:
            cert = load_certificate(values[f"{t}.certificate"])
            if weaknesses(cert) or expired(cert, datetime.now(UTC)):
                return t
        except GGAError:
            return t
    return values["channels"][0] if values["channels"] else "FTP"


# -- the confirmation's carried request -----------------------------------------------------------------------------
def _fernet(settings: Settings) -> Fernet:
    key = hashlib.sha256(f"gga-console-sender:{secret(settings)}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(settings: Settings, body: SenderIn | ChannelIn, domain_id: int, niss: str) -> str:
    """The request, encrypted (it holds the password) and dated, for « Confirmer » and « Précédent »; bound to its
    kind, its domain and the person, so a token is only ever confirmed where it was shown."""
    sealed = {"kind": type(body).__name__, "domain": domain_id, "niss": niss,
              "body": body.model_dump(mode="json", exclude_none=True)}
    return _fernet(settings).encrypt(json.dumps(sealed).encode()).decode()


def _seal(request: Request, body: SenderIn | ChannelIn, domain_id: int, who: Signed) -> str:
    return seal(services(request).settings, body, domain_id, who.niss)


async def _opened(request: Request, kind: type[SenderIn | ChannelIn], domain_id: int,
                  who: Signed) -> dict[str, Any] | None:
    """The carried request of this form, if it was sealed for this kind, domain and person within the hour."""
    token = str((await request.form()).get("pending") or "")
    try:
        sealed = json.loads(_fernet(services(request).settings).decrypt(token.encode(), ttl=PENDING_TTL_S))
    except (InvalidToken, ValueError):
        return None
    if not isinstance(sealed, dict) or (sealed.get("kind"), sealed.get("domain"), sealed.get("niss")) != (
            kind.__name__, domain_id, who.niss):
        return None
    try:
        kind.model_validate(sealed["body"])
    except ValidationError:
        return None
    return sealed["body"]


def _dry_run(request: Request, who: Signed, domain_id: int, body: SenderIn) -> dict[str, Any]:
    """What ``create`` would make, every check included, in a transaction rolled back."""
    try:
        with services(request).db.session() as session:
            raise _DryRun(service.create(session, who.caller, domain_id, body, services(request).passwords))
    except _DryRun as dry:
        return dry.view


def _again(request: Request, who: Signed, domain_id: int, values: dict[str, Any], errors: dict[str, str],
           status: int = 422) -> Response:
    with services(request).db.read() as session:
        return _wizard(request, session, who, domain_id, values, errors, status)


@router.post("/review", response_class=HTMLResponse)
async def review(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang, errors = language(request), {}
    values = await _values(await request.form(), errors, lang)
    body, invalid = _checked(values, lang)
    errors |= invalid
    if body is None or errors:
        return _again(request, who, domain_id, values, errors)
    try:
        view = _dry_run(request, who, domain_id, body)
    except GGAError as err:
        return _again(request, who, domain_id, values, _placed(err, values, lang), err.status)
    with services(request).db.read() as session:
        domain = _domain(session, domain_id, lang)
    return render(request, "senders/confirm.html", domain=domain, sender=view,
                  pending=_seal(request, body, domain_id, who),
                  app_name=lambda code: app_name(code, lang))


@router.post("/back", response_class=HTMLResponse)
async def back(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    body = await _opened(request, SenderIn, domain_id, who)
    if body is None:
        return _again(request, who, domain_id, _blank(), {FORM: label("senders.error.expired", language(request))})
    return _again(request, who, domain_id, _from_body(body), {}, 200)


@router.post("/confirm", response_class=HTMLResponse)
async def confirm(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    sent = await _opened(request, SenderIn, domain_id, who)
    if sent is None:
        return _again(request, who, domain_id, _blank(), {FORM: label("senders.error.expired", lang)})
    body = SenderIn.model_validate(sent)
    try:
        with services(request).db.session() as session:
            service.create(session, who.caller, domain_id, body, services(request).passwords)
    except GGAError as err:  # something changed since the confirmation screen (the name taken meanwhile...)
        values = _from_body(sent)
        return _again(request, who, domain_id, values, _placed(err, values, lang), err.status)
    return done(request, _page_path(domain_id), translate("sender.created", lang))


# -- the sender's page: its actions ---------------------------------------------------------------------------------
def _act(request: Request, who: Signed, domain_id: int, call: Any, message: str) -> Response:
    """Run one service action; its refusal is shown on the sender's page, above or next to the form concerned."""
    try:
        with services(request).db.session() as session:
            call(session)
    except GGAError as err:
        with services(request).db.read() as session:
            view = service.read(session, who.caller, domain_id)
            return _sender(request, session, domain_id, view, refused(err, language(request)), err.status)
    return done(request, _page_path(domain_id), message)


@router.post("/status")
async def change_status(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    wanted = "blocked" if (await request.form()).get("status") == "blocked" else "active"
    patch = SenderPatch(status=wanted)
    return _act(request, who, domain_id, lambda s: service.update(s, who.caller, domain_id, patch,
                                                                  services(request).passwords),
                label(f"senders.done.{wanted}", language(request)))


@router.post("/channels/{channel_type}/applications")
async def channel_applications(domain_id: RowId, channel_type: str, request: Request,
                               who: Signed = Depends(signed_in)) -> Response:
    wanted = {str(c) for c in (await request.form()).getlist(f"{channel_type}.applications")}

    def call(session: Session) -> None:
        view = service.read(session, who.caller, domain_id)
        held = {a["code"] for c in view["channels"] if c["type"] == channel_type for a in c["applications"]}
        patch = ChannelPatch(add_applications=sorted(wanted - held) or None,
                             remove_applications=sorted(held - wanted) or None)
        service.update_channel(session, who.caller, domain_id, channel_type, patch)
    return _act(request, who, domain_id, call, translate("channel.updated", language(request)))


@router.post("/preferred")
async def preferred_channels(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    """One preferred channel per application: each channel chosen anew becomes preferred for its codes."""
    form = await request.form()
    chosen = {k.removeprefix("preferred."): str(v) for k, v in form.items() if k.startswith("preferred.")}

    def call(session: Session) -> None:
        current = {a["code"]: a["preferred_channel"] for a in service.read(session, who.caller, domain_id)[
            "applications"]}
        by_channel: dict[str, list[str]] = {}
        for code, t in chosen.items():
            if current.get(code) != t:
                by_channel.setdefault(t, []).append(code)
        for t, codes in sorted(by_channel.items()):
            service.update_channel(session, who.caller, domain_id, t, ChannelPatch(preferred_for=codes))
    return _act(request, who, domain_id, call, translate("channel.updated", language(request)))


@router.post("/channels/{channel_type}/remove")
async def remove_channel(domain_id: RowId, channel_type: str, request: Request,
                         who: Signed = Depends(signed_in)) -> Response:
    spool_dir = services(request).settings.spool_dir
    return _act(request, who, domain_id, lambda s: service.remove_channel(s, who.caller, domain_id, channel_type,
                                                                          spool_dir),
                translate("channel.removed", language(request)))


# -- Ajout d'un canal: the same confirmation screen, then ``add_channel`` ---------------------------------------------
_ADD_PLACES = {ErrorCode.SSH_KEY_INVALID: "add.ssh_public_key", ErrorCode.SSH_KEY_TOO_WEAK: "add.ssh_public_key",
               ErrorCode.CERTIFICATE_MALFORMED: "add.certificate", ErrorCode.CERTIFICATE_WEAK: "add.certificate",
               ErrorCode.CERTIFICATE_EXPIRED: "add.certificate",
               ErrorCode.CHANNEL_EXISTS: "add.type", ErrorCode.PREFERRED_CHANNEL_INVALID: "add.preferred",
               ErrorCode.APPLICATION_NOT_IN_DOMAIN: "add.applications",
               ErrorCode.APPLICATION_UNKNOWN: "add.applications"}


async def _added(form: FormData, errors: dict[str, str], lang: str) -> dict[str, Any]:
    values: dict[str, Any] = {"type": str(form.get("add.type") or ""), "applications": [
        str(c) for c in form.getlist("add.applications")], "preferred": [str(c) for c in form.getlist("add.preferred")]}
    for name, file_name in (("certificate", "add.certificate_file"), ("ssh_public_key", "add.ssh_key_file")):
        sent = await _uploaded(form, file_name, errors, f"add.{name}", lang)
        values[name] = sent if sent is not None else str(form.get(f"add.{name}") or "").strip()
    return values


def _channel_body(values: dict[str, Any]) -> dict[str, Any]:
    body = {"type": values["type"], "certificate": values["certificate"], "applications": [
        {"code": c} | ({"preferred": True} if c in values["preferred"] else {}) for c in values["applications"]]}
    return body | ({"ssh_public_key": values["ssh_public_key"]} if values["type"] == "SFTP" else {})


def _channel_values(body: dict[str, Any]) -> dict[str, Any]:
    return {"type": body["type"], "certificate": body["certificate"], "ssh_public_key": body.get("ssh_public_key", ""),
            "applications": [a["code"] for a in body["applications"]],
            "preferred": [a["code"] for a in body["applications"] if a.get("preferred")]}


def _sender_again(request: Request, who: Signed, domain_id: int, add: dict[str, Any], errors: dict[str, str],
                  status: int = 422) -> Response:
    with services(request).db.read() as session:
        view = service.read(session, who.caller, domain_id)
        return _sender(request, session, domain_id, view, errors, status, add)


def _add_placed(err: GGAError, lang: str) -> dict[str, str]:
    return {_ADD_PLACES[err.code]: err.localized(lang)} if err.code in _ADD_PLACES else refused(err, lang)


@router.post("/channels/review", response_class=HTMLResponse)
async def review_channel(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang, errors = language(request), {}
    values = await _added(await request.form(), errors, lang)
    body, invalid = build(ChannelIn, _channel_body(values), lang)
    errors |= {f"add.{name.split('.')[0]}": message for name, message in invalid.items()}
    if body is None or errors:
        return _sender_again(request, who, domain_id, values, errors)
    try:
        with services(request).db.session() as session:
            raise _DryRun(service.add_channel(session, who.caller, domain_id, body))
    except _DryRun as dry:
        view = dry.view
    except GGAError as err:
        return _sender_again(request, who, domain_id, values, _add_placed(err, lang), err.status)
    with services(request).db.read() as session:
        domain = _domain(session, domain_id, lang)
    return render(request, "senders/confirm_channel.html", domain=domain, sender=view,
                  pending=_seal(request, body, domain_id, who),
                  channel=next(c for c in view["channels"] if c["type"] == body.type),
                  app_name=lambda code: app_name(code, lang))


@router.post("/channels/back", response_class=HTMLResponse)
async def back_channel(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    body = await _opened(request, ChannelIn, domain_id, who)
    if body is None:
        return _sender_again(request, who, domain_id, {}, {FORM: label("senders.error.expired", language(request))})
    return _sender_again(request, who, domain_id, _channel_values(body), {}, 200)


@router.post("/channels/confirm", response_class=HTMLResponse)
async def confirm_channel(domain_id: RowId, request: Request, who: Signed = Depends(signed_in)) -> Response:
    lang = language(request)
    sent = await _opened(request, ChannelIn, domain_id, who)
    if sent is None:
        return _sender_again(request, who, domain_id, {}, {FORM: label("senders.error.expired", lang)})
    body = ChannelIn.model_validate(sent)
    try:
        with services(request).db.session() as session:
            service.add_channel(session, who.caller, domain_id, body)
    except GGAError as err:
        return _sender_again(request, who, domain_id, _channel_values(sent), _add_placed(err, lang), err.status)
    return done(request, _page_path(domain_id), translate("channel.added", lang))
