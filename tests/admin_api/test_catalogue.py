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
