"""The API docs work without internet: Swagger UI and ReDoc pages reference only local URLs, which answer."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("page", ["/api/v1/docs", "/api/v1/redoc"])
def test_docs_pages_use_local_assets_only(client, page):
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", r.text)
    assert urls, r.text
    assert not [u for u in urls if "//" in u], urls  # no CDN, no fonts from elsewhere
    assert not re.findall(r"https?://", r.text)
    for url in {u for u in urls if u.startswith("/api/v1/docs-assets/")}:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_swagger_oauth2_redirect(client):
    assert client.get("/api/v1/docs/oauth2-redirect").status_code == 200
