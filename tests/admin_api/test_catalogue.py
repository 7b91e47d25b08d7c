"""GET /api/v1/applications names every application in French, Dutch and English."""

from __future__ import annotations

from kernel.catalogue import APPLICATIONS


def test_the_catalogue_lists_the_english_names(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/applications")
    assert r.status_code == 200, r.text
    items = {a["code"]: a for a in r.json()["items"]}
    assert items.keys() == APPLICATIONS.keys()
    for code, app in APPLICATIONS.items():
        assert (items[code]["name_fr"], items[code]["name_nl"], items[code]["name_en"]) == \
            (app.name_fr, app.name_nl, app.name_en)
    assert items["CHTP"]["name_en"] == "Temporary unemployment"
    schema = client.app.openapi()["components"]["schemas"]["ApplicationView"]
    assert "name_en" in schema["required"]


def test_every_list_endpoint_takes_page_and_page_size_in_one_envelope(client, auth, db):
    """The contract: list endpoints take page and page_size. The domains, the catalogue and the bans refused both
    (422 unknown parameter) and answered in three shapes."""
    from tests.admin_api.world import make_world
    w = make_world(db, client, auth, with_sender=False)
    client.post(f"/api/v1/enterprises/{w.a}/domains", headers=auth(w.gap),
                json={"name": "Employeur ONSS", "identifier": "2345678-90"})
    ops = auth("85073003328", roles=["ops"])
    for url, headers in ((f"/api/v1/enterprises/{w.a}/domains", auth(w.gap)), ("/api/v1/applications", {}),
                         ("/api/v1/defender/bans", ops)):
        whole = client.get(url, headers=headers).json()
        assert {"items", "total", "page", "page_size"} <= whole.keys(), (url, whole)
        one = client.get(url, headers=headers, params={"page": 2, "page_size": 1})
        assert one.status_code == 200, (url, one.text)
        assert one.json()["items"] == whole["items"][1:2] and one.json()["total"] == whole["total"], url
    assert client.get("/api/v1/applications", params={"page": 0}).status_code == 422
