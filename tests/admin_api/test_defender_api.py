"""The admin API's side of the defender: its 401s count per address, a banned address gets 403 ADDRESS_BANNED even
with a good token, and ops list and lift bans (GET/DELETE /api/v1/defender/bans)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gga.wiring import http_app
from tests import factories

BAD = {"Authorization": "Bearer not-a-token"}


def client_from(services, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(http_app(services, None), raise_server_exceptions=False, client=(address, 40000))


def test_401s_ban_the_address_and_ops_lift_the_ban(services, auth, db):
    ops = auth(factories.niss(1955, 5, 5, 5), roles=["ops"])
    attacker, desk = client_from(services, "203.0.113.7"), client_from(services, "198.51.100.1")
    for _ in range(services.settings.defender_max_failures):
        assert attacker.get("/api/v1/transfers", headers=BAD).status_code == 401
    refused = attacker.get("/api/v1/transfers", headers=ops)  # a good token, from the banned address
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ADDRESS_BANNED"
    assert attacker.get("/api/v1/applications").status_code == 200  # no token: nothing to refuse

    bans = desk.get("/api/v1/defender/bans", headers=ops).json()["items"]
    assert [b["address"] for b in bans] == ["203.0.113.7"] and bans[0]["banned_until"] > bans[0]["banned_at"]
    rows = desk.get("/api/v1/transfers?event=ban", headers=ops).json()["items"]
    assert [(r["protocol"], r["error_code"]) for r in rows] == [("API", "ADDRESS_BANNED")]

    assert desk.delete("/api/v1/defender/bans/not-an-address", headers=ops).status_code == 422
    assert desk.delete("/api/v1/defender/bans/203.0.113.7", headers=ops).status_code == 204
    assert desk.get("/api/v1/defender/bans", headers=ops).json()["items"] == []
    assert attacker.get("/api/v1/transfers", headers=ops).status_code == 200


def test_an_allow_listed_address_is_never_banned(services, auth, db):
    services.settings = services.settings.model_copy(update={"defender_allow": "203.0.113.0/24"})
    client = client_from(services, "203.0.113.7")
    for _ in range(services.settings.defender_max_failures + 2):
        assert client.get("/api/v1/transfers", headers=BAD).status_code == 401
    ops = auth(factories.niss(1955, 5, 5, 5), roles=["ops"])
    assert client.get("/api/v1/defender/bans", headers=ops).json()["items"] == []
