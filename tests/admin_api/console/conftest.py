"""The console on a real uvicorn server (as `gga serve` runs it) with the demo's enterprise, and a real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from admin_api.http import Services
from gga.demo import seed
from tests.admin_api.console.browser import Console, available, shots_folder, start_chromium
from tests.gga.test_http_limits import running


@pytest.fixture
def demo(services: Services) -> dict:
    """The demo world: enterprise 0403.019.261, its GAP, the "Employeur ONSS" domain and a sender."""
    return seed(services)


@pytest.fixture
def console_url(services: Services, demo: dict) -> Iterator[str]:
    with running(services) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not available():
        pytest.fail("chromium and chromium-driver are needed (apt-get install chromium chromium-driver)")
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium, console_url: str, tmp_path: Path) -> Iterator[Console]:  # type: ignore[no-untyped-def]
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})  # cookies are per host, not per port
    yield Console(chromium, console_url, shots_folder(tmp_path / "shots"))
    chromium.get("about:blank")
