"""Issue 13 point 5: a channel's PATCH changes only the applications it names (add_applications,
remove_applications, preferred_for); the old full list, which silently dropped the others, is refused."""

import pytest

from kernel.catalogue import EMPLOYER_ONSS, applications_of_domain
from tests.admin_api import senders as s
from tests.admin_api.world import make_world

ALL = applications_of_domain(EMPLOYER_ONSS)  # the 11 applications of the domain


@pytest.fixture
def w(db, client, auth):
    world = make_world(db, client, auth, with_sender=False)
    # SFTP preferred for DMFA and DIMN, FTP for PUBL, WS for the rest; WECH only on WS, PUBL only on FTP
    channels = [
        {"type": "SFTP", "certificate": s.cert_pem(), "ssh_public_key": s.ssh_public(),
         "applications": [{"code": "DMFA", "preferred": True}, {"code": "DIMN", "preferred": True}]},
        {"type": "FTP", "certificate": s.cert_pem(), "applications": [{"code": "DMFA"}, {"code": "PUBL"}]},
        {"type": "WS", "certificate": s.cert_pem(),
         "applications": [{"code": c, "preferred": c not in ("DMFA", "DIMN", "PUBL")} for c in ALL if c != "PUBL"]},
    ]
    created = client.post(url(world), headers=auth(world.gl), json=s.sender_body(channels=channels))
    assert created.status_code == 201, created.text
    return world


def url(w, tail=""):
    return f"/api/v1/domains/{w.domain}/sender{tail}"


def carried(view: dict) -> dict[str, set[str]]:
    """Per channel, the applications it carries."""
    return {c["type"]: {a["code"] for a in c["applications"]} for c in view["channels"]}


def preferred(view: dict) -> dict[str, str]:
    """Per application, its preferred channel; exactly one among the channels carrying it."""
    found: dict[str, list[str]] = {}
    for channel in view["channels"]:
        for app in channel["applications"]:
            found.setdefault(app["code"], [])
            if app["preferred"]:
                found[app["code"]].append(channel["type"])
    assert all(len(types) == 1 for types in found.values()), found
    return {code: types[0] for code, types in found.items()}


def error(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    return response.status_code, response.json()["error"]["code"]


def test_add_and_preferred_for_change_only_what_they_name(client, auth, w):
    before = client.get(url(w), headers=auth(w.gl)).json()
    added = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"add_applications": ["dimn", "PUBL"]})
    assert added.status_code == 200, added.text
    assert added.json()["changes"] == {"added": ["DIMN"], "removed": [], "preferred_channel": {}}
    assert carried(added.json()) == carried(before) | {"FTP": {"DMFA", "PUBL", "DIMN"}}
    assert preferred(added.json()) == preferred(before)  # DIMN stays preferred on SFTP
    moved = client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"preferred_for": ["DIMN"]})
    assert moved.json()["changes"] == {"added": [], "removed": [], "preferred_channel": {"DIMN": "FTP"}}
    assert carried(moved.json()) == carried(added.json())
    assert preferred(moved.json()) == preferred(before) | {"DIMN": "FTP"}
    both = client.patch(url(w, "/channels"), headers=auth(w.gl),
                        json={"type": "SFTP", "add_applications": ["WECH"], "preferred_for": ["WECH"]})
    assert both.json()["changes"] == {"added": ["WECH"], "removed": [], "preferred_channel": {"WECH": "SFTP"}}
    assert preferred(both.json()) == preferred(moved.json()) | {"WECH": "SFTP"}
    assert carried(both.json())["WS"] == carried(before)["WS"]  # WS keeps WECH, no longer preferred


def test_remove_moves_the_preference_or_is_refused(client, auth, w):
    before = client.get(url(w), headers=auth(w.gl)).json()
    # DMFA is preferred on SFTP and carried by FTP and WS too: the preference goes to FTP (SFTP, FTP, WS order)
    removed = client.patch(url(w, "/channels/SFTP"), headers=auth(w.gl), json={"remove_applications": ["DMFA"]})
    assert removed.status_code == 200, removed.text
    assert removed.json()["changes"] == {"added": [], "removed": ["DMFA"], "preferred_channel": {"DMFA": "FTP"}}
    assert carried(removed.json()) == carried(before) | {"SFTP": {"DIMN"}}
    assert preferred(removed.json()) == preferred(before) | {"DMFA": "FTP"}
    # a non-preferred one leaves without moving anything
    plain = client.patch(url(w, "/channels/WS"), headers=auth(w.gl), json={"remove_applications": ["DMFA"]})
    assert plain.json()["changes"] == {"added": [], "removed": ["DMFA"], "preferred_channel": {}}
    assert preferred(plain.json()) == preferred(removed.json())
    # an application no other channel carries cannot leave: refused, nothing changes (DIMN alone could leave WS)
    for channel, codes, alone in (("WS", ["WECH", "ZIMA"], ["WECH", "ZIMA"]), ("WS", ["DIMN", "AOAT"], ["AOAT"]),
                                  ("FTP", ["PUBL", "DMFA"], ["DMFA", "PUBL"])):
        refused = client.patch(url(w, f"/channels/{channel}"), headers=auth(w.gl) | {"Accept-Language": "en"},
                               json={"remove_applications": codes})
        assert error(refused) == (409, "APPLICATION_LAST_CHANNEL")
        assert refused.json()["error"]["details"] == {"applications": alone, "channel": channel}
        assert "another channel" in refused.json()["error"]["message"]
    after = client.get(url(w), headers=auth(w.gl)).json()
    assert (carried(after), preferred(after)) == (carried(plain.json()), preferred(plain.json()))


def test_refusals_leave_the_channel_as_it_was(client, auth, w):
    before = client.get(url(w), headers=auth(w.gl)).json()
    for body, expected in (({"add_applications": ["ZZZZ"]}, (422, "APPLICATION_UNKNOWN")),
                           ({"preferred_for": ["WECH"]}, (422, "PREFERRED_CHANNEL_INVALID")),  # FTP lacks WECH
                           ({"add_applications": ["ZIMA"], "remove_applications": ["zima"]}, (422, "VALIDATION_ERROR")),
                           ({"remove_applications": ["PUBL"], "preferred_for": ["PUBL"]},
                            (409, "APPLICATION_LAST_CHANNEL"))):
        assert error(client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json=body)) == expected, body
    after = client.get(url(w), headers=auth(w.gl)).json()
    assert (carried(after), preferred(after)) == (carried(before), preferred(before))


def test_the_old_full_list_no_longer_drops_the_others(client, auth, w):
    """The issue's request: it answered 200 and left WS with DMFA alone."""
    before = client.get(url(w), headers=auth(w.gl)).json()
    assert len(carried(before)["WS"]) == 10
    for path, body in (("/channels/WS", {}), ("/channels", {"type": "WS"})):
        old = client.patch(url(w, path), headers=auth(w.gl) | {"Accept-Language": "en"},
                           json=body | {"applications": [{"code": "DMFA", "preferred": True}]})
        assert error(old) == (422, "VALIDATION_ERROR")
        assert old.json()["error"]["details"]["use"] == ["add_applications", "remove_applications", "preferred_for"]
        assert "add_applications" in old.json()["error"]["message"]
    after = client.get(url(w), headers=auth(w.gl)).json()
    assert (carried(after), preferred(after)) == (carried(before), preferred(before))
    # certificates and keys still change alone, without touching the applications
    rolled = client.patch(url(w, "/channels/WS"), headers=auth(w.gl),
                          json={"add_certificate": s.cert_pem("Acme web service 2027")})
    assert rolled.status_code == 200 and rolled.json()["changes"] == {"added": [], "removed": [],
                                                                       "preferred_channel": {}}
    assert carried(rolled.json()) == carried(before)


def test_openapi_documents_the_changes(client):
    spec = client.get("/api/v1/openapi.json").json()
    patch = spec["paths"]["/api/v1/domains/{domain_id}/sender/channels/{channel_type}"]["patch"]
    answer = patch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]
    assert set(spec["components"]["schemas"][answer]["properties"]) >= {"changes", "channels", "applications"}
    asked = spec["components"]["schemas"]["ChannelPatch"]["properties"]
    assert {"add_applications", "remove_applications", "preferred_for"} <= set(asked)
    assert asked["applications"].get("deprecated") is True


def test_removing_a_channel_that_alone_carries_an_application_is_refused_like_the_patch(client, auth, w):
    before = client.get(url(w), headers=auth(w.gl)).json()
    for removal in (client.delete(url(w, "/channels/FTP"), headers=auth(w.gl)),  # PUBL is only on FTP
                    client.patch(url(w, "/channels/FTP"), headers=auth(w.gl), json={"remove_applications": ["PUBL"]})):
        assert error(removal) == (409, "APPLICATION_LAST_CHANNEL")
        assert removal.json()["error"]["details"]["applications"] == ["PUBL"]
    assert client.get(url(w), headers=auth(w.gl)).json()["channels"] == before["channels"]
