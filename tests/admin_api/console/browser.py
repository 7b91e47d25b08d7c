"""A real headless Chromium driven through Selenium and Debian's chromedriver, with the console's gestures."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SHOTS_ENV = "GGA_CONSOLE_SHOTS"  # `GGA_CONSOLE_SHOTS=docs/console pytest tests/admin_api/console` refreshes the docs


def _detached(element: WebElement) -> bool:
    """Selenium's ``staleness_of``, also for the other words chromedriver uses when a navigation lands between
    its lookup of the node and its question about it ("Node with given id does not belong to the document")."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error.msg):
            return True
        raise
    return False


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


def start_chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000", "--lang=fr-BE", "--no-proxy-server"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "fr-BE,fr"})  # a Belgian francophone
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


class Console:
    """One browser on one running console: ``go``, ``fill``, ``press``, ``shot``; every wait is bounded."""

    def __init__(self, driver: webdriver.Chrome, base: str, shots: Path):
        self.driver, self.base, self.shots = driver, base, shots

    def go(self, path: str) -> Console:
        self.driver.get(self.base + path)
        return self

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base)

    @property
    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    @property
    def heading(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "h1").text

    def field(self, name: str) -> WebElement:
        return self.driver.find_element(By.NAME, name)

    def fill(self, **values: str) -> Console:
        """Type into fields by name (``last_name="Peeters"``); ``select`` elements pick the option by value."""
        for name, value in values.items():
            element = self.field(name)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)
        return self

    def check(self, name: str, value: str) -> Console:
        box = self.driver.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
        if not box.is_selected():
            box.click()
        return self

    def press(self, words: str) -> Console:
        """Click the button (or link) that says ``words``, as a person would, and wait for the next page."""
        before = self.driver.find_element(By.TAG_NAME, "html")
        target = self.driver.find_element(By.XPATH, f"//button[normalize-space()={_xpath(words)}] | "
                                                    f"//a[normalize-space()={_xpath(words)}]")
        target.click()
        self._wait_stale(before)
        return self

    def _wait_stale(self, element: WebElement, limit_s: float = 15) -> None:
        try:
            WebDriverWait(self.driver, limit_s, poll_frequency=0.05).until(lambda _: _detached(element))
        except TimeoutException:
            raise AssertionError("the page did not change") from None

    def sign_in(self, niss: str, loa: str = "eid", roles: tuple[str, ...] = ()) -> Console:
        self.go("/console/sign-in")
        self.fill(other_niss=niss, loa=loa)
        for role in roles:
            self.check("roles", role)
        return self.press(self.driver.find_element(By.CSS_SELECTOR, "#dev-sign-in button[type=submit]").text)

    def shot(self, name: str) -> Path:
        """A screenshot of the whole page, beyond the window (Chromium's DevTools), in the run's folder (or the
        docs' folder when ``GGA_CONSOLE_SHOTS``)."""
        self.shots.mkdir(parents=True, exist_ok=True)
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
        image = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(image))
        return path


def _xpath(text: str) -> str:
    return f'"{text}"' if '"' not in text else f"'{text}'"


def shots_folder(tmp: Path) -> Path:
    chosen = os.environ.get(SHOTS_ENV)
    return Path(chosen).resolve() if chosen else tmp


