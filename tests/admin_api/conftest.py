"""The admin API served over real HTTP for the modules that need a real server (limits, headers, raw bodies)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.gga.test_http_limits import running


@pytest.fixture
def api(services) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with running(services) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
