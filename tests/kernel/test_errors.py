from pathlib import Path

from fastapi import APIRouter

from admin_api.app import create_app
from kernel.errors import ErrorCatalogue


def test_docs_list_every_error_code():
    documented = (Path(__file__).parents[2] / "docs" / "errors.md").read_text()
    assert documented == ErrorCatalogue.build().markdown(), "run: python -m kernel.errors > docs/errors.md"


def test_an_unexpected_failure_never_shows_a_stack_trace(services):
    from fastapi.testclient import TestClient

    boom = APIRouter()

    @boom.get("/boom")
    def explode():
        raise RuntimeError("secret internals at /srv/app.py line 42")

    app = create_app(services)
    app.include_router(boom, prefix="/api/v1")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "INTERNAL_ERROR" and "secret" not in response.text and "Traceback" not in response.text
    assert error["details"]["reference"]


def test_unknown_route_and_bad_token_use_the_contract_shape(client):
    assert client.get("/api/v1/nothing").json()["error"]["code"] == "NOT_FOUND"
    response = client.get("/api/v1/audit", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHENTICATED"
    malformed = client.post("/api/v1/registrations/exceptional", content=b"{not json",
                            headers={"content-type": "application/json"})
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "VALIDATION_ERROR"
