"""Contract section 2 (issue 13 point 2): forms send "" for a field left blank. In a create, an optional field sent
as "" or null is the same as an absent one; in a PATCH an absent field is unchanged, "" or null clears an optional
field, and a field the resource needs refuses them (422)."""

from __future__ import annotations

import copy
import importlib
import pkgutil
import typing
from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

import admin_api
from admin_api.schemas import Blank, Body, PatchBody
from admin_api.sender.schemas import ContactPatch, SenderContact
from tests import factories
from tests.admin_api import senders as s
from tests.admin_api.world import PASSWORD, make_world

CONTACT = {"email": "direction@a.be", "phone": "+3221234567"}
PERSON = {"niss": factories.niss(1985, 1, 1, 1), **CONTACT}
# every request body of the admin API, with only what it needs: a new body fails the first test until it is here
MINIMAL: dict[str, dict] = {
    "StandardRegistration": {"enterprise_number": factories.enterprise_number(403019),
                             "main_access_manager": PERSON, "contact": CONTACT, "confirm": True},
    "ExceptionalRegistration": {"enterprise_number": factories.enterprise_number(403019),
                                "main_access_manager": PERSON, "contact": CONTACT, "confirm": True,
                                "legal_representative": {"niss": PERSON["niss"], "first_name": "Luc",
                                                         "last_name": "Legal"}},
    "Rejection": {"reason": "No signature"},
    "ManagerDesignation": {"main_access_manager": "self", "contact": CONTACT, "confirm": True},
    "CoMainManagerIn": {"niss": PERSON["niss"]},
    "DomainIn": {"name": "Employeur ONSS", "identifier": "1234567-89"},
    "ManagerIn": {"niss": PERSON["niss"]},
    "UserIn": {"niss": PERSON["niss"], "username": "jeanne", "password": PASSWORD, "last_name": "Martin",
               "first_name": "Jeanne", "email": "jeanne@a.be"},
    "BulkIn": {"action": "block", "users": ["jeanne"]},
    "SenderIn": {"contact": s.CONTACT, "technical_user": "EXPacme001", "password": s.PASSWORD,
                 "channels": [{"type": "FTP", "certificate": "PEM", "applications": [{"code": "DMFA"}]}]},
    "ChannelIn": {"type": "FTP", "certificate": "PEM", "applications": [{"code": "DMFA"}]},
}
NOT_YET_BODY = {"admin_api.enterprise.endpoints.CoMainManagerIn", "admin_api.enterprise.endpoints.DomainIn"}


def request_bodies() -> dict[str, type[BaseModel]]:
    """The body model of every route of the admin API's modules, by name."""
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(admin_api.__path__, "admin_api.")]
    routes = [r for m in modules if isinstance(getattr(m, "router", None), APIRouter) for r in m.router.routes]
    return {r.body_field.field_info.annotation.__name__: r.body_field.field_info.annotation for r in routes
            if isinstance(r, APIRoute) and r.body_field is not None}


def nested(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for m in map(nested, typing.get_args(annotation)) if m is not None), None)


def models_in(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    yield model
    for field in model.model_fields.values():
        inner = nested(field.annotation)
        if inner is not None:
            yield from models_in(inner)


def optional_paths(model: type[BaseModel], body: dict, at: tuple = ()) -> Iterator[tuple[type[BaseModel], tuple]]:
    """(model, path) of each optional field, given in the body or not, in the body's nested objects too."""
    for name, field in model.model_fields.items():
        if not field.is_required():
            yield model, (*at, name)
        if name not in body:
            continue
        inner, value = nested(field.annotation), body[name]
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for i, item in items:
            if inner is not None and isinstance(item, dict):
                yield from optional_paths(inner, item, (*at, name) if i is None else (*at, name, i))


def with_value(body: dict, path: tuple, value: object = ...) -> dict:
    """The body with the field at ``path`` set to ``value``, or left out (``...``)."""
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if value is ...:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return changed


def blanked(model: type[BaseModel], body: dict, value: object) -> dict:
    """Every optional field the body leaves out, sent as ``value``."""
    absent = [path for _, path in optional_paths(model, body) if not _given(body, path)]
    for path in absent:
        body = with_value(body, path, value)
    return body


def _given(body: dict, path: tuple) -> bool:
    target = body
    for step in path[:-1]:
        target = target[step]
    return path[-1] in target


def test_every_request_body_takes_blank_optional_fields_as_absent():
    bodies = request_bodies()
    assert set(bodies) - {m.__name__ for m in bodies.values() if issubclass(m, PatchBody)} == set(MINIMAL)
    every = {m for model in bodies.values() for m in models_in(model)}
    not_body = {f"{m.__module__}.{m.__name__}" for m in every if not issubclass(m, Body)}
    assert not_body <= NOT_YET_BODY
    tried = set()
    for name, minimal in MINIMAL.items():
        model = bodies[name]
        if not issubclass(model, Body):
            continue  # NOT_YET_BODY: the next test
        for owner, path in optional_paths(model, minimal):
            tried.add((owner, path[-1]))
            absent = model.model_validate(with_value(minimal, path)).model_dump(exclude_unset=True)
            for blank in ("", None, "  "):
                assert model.model_validate(with_value(minimal, path, blank)).model_dump(exclude_unset=True) == \
                    absent, (name, path, blank)
    optional = {(m, n) for m in every if issubclass(m, Body) and not issubclass(m, PatchBody)
                for n, f in m.model_fields.items() if not f.is_required()}
    assert optional <= tried  # every optional field of every body was tried


def test_enterprise_bodies_follow_the_rule_too():
    every = {m for model in request_bodies().values() for m in models_in(model)}
    assert not {f"{m.__module__}.{m.__name__}" for m in every if not issubclass(m, Body)}


def test_every_patch_field_is_cleared_ignored_or_refused_when_blank():
    patches = {m for model in request_bodies().values() for m in models_in(model)
               if issubclass(m, PatchBody)}
    assert {m.__name__ for m in patches} == {"SenderPatch", "ContactPatch", "ChannelPatch", "UserPatch"}
    for model in patches:
        for name, field in model.model_fields.items():
            for blank in ("", None):
                if Blank.CLEARS in field.metadata:
                    assert model.model_validate({name: blank}).model_dump(exclude_unset=True) == {name: None}
                elif Blank.ASKS_NOTHING in field.metadata:
                    assert model.model_validate({name: blank}).model_dump(exclude_unset=True) == {}
                else:
                    with pytest.raises(ValidationError) as refused:
                        model.model_validate({name: blank})
                    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [((name,), "missing")]
    # the contact's PATCH clears exactly what its create may leave out
    assert set(ContactPatch.model_fields) == set(SenderContact.model_fields)
    assert {n for n, f in ContactPatch.model_fields.items() if Blank.CLEARS in f.metadata} == \
        {n for n, f in SenderContact.model_fields.items() if not f.is_required()}


@pytest.fixture
def w(db, client, auth):
    return make_world(db, client, auth, with_sender=False)


def error(response) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    body = response.json()["error"]
    return response.status_code, body["code"], body["details"]["errors"][0]["field"]


def comparable(view: dict, *unique: str) -> dict:
    return {k: v for k, v in view.items() if k not in {"id", "created_at", "updated_at", "message", *unique}}


def test_users_and_managers_created_with_blank_optional_fields(client, auth, w):
    url = f"/api/v1/domains/{w.domain}/users"
    model = request_bodies()["UserIn"]
    made = []
    for i, blank in enumerate((None, "", None)):
        body = MINIMAL["UserIn"] | {"niss": factories.niss(1995, 5, 5, 100 + i), "username": f"jeanne{i}"}
        response = client.post(url, headers=auth(w.gl), json=body if i == 0 else blanked(model, body, blank))
        assert response.status_code == 201, response.text
        made.append(comparable(response.json(), "niss", "username"))
    assert made[0] == made[1] == made[2]
    assert (made[0]["local_email"], made[0]["title"], made[0]["language"], made[0]["applications"]) == \
        (None, "", "fr", [])
    # the case, as a form sends it
    form = MINIMAL["UserIn"] | {"niss": factories.niss(1995, 5, 5, 200), "username": "form", "local_email": "",
                                "title": "", "applications": None}
    assert client.post(url, headers=auth(w.gl), json=form).json()["local_email"] is None
    # a required field left blank is missing
    for field in ("last_name", "email", "username"):
        refused = client.post(url, headers=auth(w.gl), json=form | {"username": "other", field: ""})
        assert error(refused) == (422, "VALIDATION_ERROR", field)
        assert refused.json()["error"]["details"]["errors"][0]["type"] == "missing"
    manager = {"niss": factories.niss(1995, 5, 5, 300), "username": "cogl", "last_name": "Co", "first_name": "Gl",
               "email": "cogl@a.be"}
    co = client.post(f"/api/v1/domains/{w.domain}/co-local-managers", headers=auth(w.gap),
                     json=blanked(request_bodies()["ManagerIn"], manager, ""))
    assert co.status_code == 201, co.text
    assert (co.json()["local_email"], co.json()["language"], co.json()["type"]) == (None, "fr", "Co-GL")
    bulk = client.post(f"{url}/bulk", headers=auth(w.gl), json={"action": "block", "users": ["form"],
                                                                 "applications": ""})
    assert bulk.status_code == 200 and bulk.json()["summary"]["done"] == 1


def test_sender_and_channel_created_with_blank_optional_fields(client, auth, w):
    url = f"/api/v1/domains/{w.domain}/sender"
    minimal = MINIMAL["SenderIn"] | {"channels": [{"type": "FTP", "certificate": s.cert_pem(),
                                                   "applications": [{"code": "DMFA"}]}]}
    model = request_bodies()["SenderIn"]
    views = []
    for i, body in enumerate((minimal, blanked(model, minimal, ""), blanked(model, minimal, None))):
        response = client.post(url, headers=auth(w.gl), json=body | {"technical_user": f"EXPblank00{i}"})
        assert response.status_code == 201, response.text
        views.append(comparable(response.json(), "sender_number", "technical_user"))
        assert client.delete(url, headers=auth(w.gl)).status_code == 204
    assert views[0] == views[1] == views[2]
    assert (views[0]["contact"]["fax"], views[0]["contact"]["mobile"]) == (None, None)
    # the case: fax and mobile left blank
    form = minimal | {"technical_user": "EXPform001", "contact": s.CONTACT | {"fax": "", "mobile": ""}}
    created = client.post(url, headers=auth(w.gl), json=form)
    assert created.status_code == 201, created.text
    assert (created.json()["contact"]["fax"], created.json()["contact"]["mobile"]) == (None, None)
    blank_title = client.post(url, headers=auth(w.gl), json=form | {"contact": s.CONTACT | {"title": ""}})
    assert error(blank_title) == (422, "VALIDATION_ERROR", "contact.title")
    sftp = {"type": "SFTP", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
            "applications": [{"code": "DMFA", "preferred": ""}, {"code": "DIMN", "preferred": None}], "plain_ftp": ""}
    added = client.post(f"{url}/channels", headers=auth(w.gl), json=sftp)
    assert added.status_code == 201, added.text
    assert {a["code"]: a["preferred_channel"] for a in added.json()["applications"]} == {"DMFA": "FTP",
                                                                                          "DIMN": "SFTP"}


def test_sender_patch_clears_blank_optional_fields_and_leaves_absent_ones(client, auth, w):
    url = f"/api/v1/domains/{w.domain}/sender"
    full = s.CONTACT | {"fax": "+32 2 555 00 01", "mobile": "+32 475 00 00 01"}
    assert client.post(url, headers=auth(w.gl), json=s.sender_body() | {"contact": full}).status_code == 201

    def patch(body: dict):  # type: ignore[no-untyped-def]
        return client.patch(url, headers=auth(w.gl), json=body)

    def contact() -> dict:
        return client.get(url, headers=auth(w.gl)).json()["contact"]

    before = contact()
    assert patch({}).status_code == 200 and contact() == before
    assert patch({"contact": {"fax": ""}}).status_code == 200
    assert contact() == before | {"fax": None}  # mobile, absent, unchanged
    assert patch({"contact": {"mobile": None, "function": "Head of payroll"}}).status_code == 200
    assert contact() == before | {"fax": None, "mobile": None, "function": "Head of payroll"}
    assert patch({"contact": {"fax": "+32 2 555 00 02"}}).json()["contact"]["fax"] == "+3225550002"
    needed = [({"contact": {"phone": ""}}, "contact.phone"), ({"contact": {"emails": None}}, "contact.emails"),
              ({"contact": None}, "contact"), ({"password": ""}, "password"), ({"status": None}, "status")]
    for refused, field in needed:
        answer = patch(refused)
        assert error(answer) == (422, "VALIDATION_ERROR", field)
        assert answer.json()["error"]["details"]["errors"][0]["type"] == "missing"  # "this field is required"
    assert contact()["phone"] == before["phone"] and client.get(url, headers=auth(w.gl)).json()["status"] == "active"


def test_channel_patch_blank_fields(client, auth, w):
    url = f"/api/v1/domains/{w.domain}/sender"
    assert client.post(url, headers=auth(w.gl), json=s.sender_body(channels=[
        {"type": "FTP", "certificate": s.cert_pem(), "applications": [{"code": "DMFA"}]},
        {"type": "SFTP", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
         "applications": [{"code": "DIMN"}]}])).status_code == 201
    before = client.get(url, headers=auth(w.gl)).json()
    nothing = client.patch(f"{url}/channels/FTP", headers=auth(w.gl), json={
        "add_certificate": "", "remove_certificate": None, "add_applications": "", "remove_applications": None,
        "preferred_for": "", "ssh_public_key": None})  # FTP has no SSH key: clearing it changes nothing
    assert nothing.status_code == 200, nothing.text
    assert comparable(nothing.json(), "changes") == comparable(before)
    assert nothing.json()["changes"] == {"added": [], "removed": [], "preferred_channel": {}}
    cleared_key = client.patch(f"{url}/channels/SFTP", headers=auth(w.gl), json={"ssh_public_key": ""})
    assert error_code(cleared_key) == (422, "VALIDATION_ERROR")
    assert error(client.patch(f"{url}/channels/FTP", headers=auth(w.gl), json={"plain_ftp": None})) == \
        (422, "VALIDATION_ERROR", "plain_ftp")
    assert comparable(client.get(url, headers=auth(w.gl)).json()) == comparable(before)


def error_code(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    return response.status_code, response.json()["error"]["code"]
