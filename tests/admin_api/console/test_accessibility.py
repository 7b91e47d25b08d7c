"""Every page the console links to, as a GAP with the platform roles, has a label for each field, one h1 and a
language; the sign-in works with the keyboard alone (real Chromium)."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.admin_api.console.browser import Console

MAX_PAGES = 40  # the crawl is bounded
UNLABELLED = """
return [...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden').filter(e =>
  !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.name || e.id || e.outerHTML.slice(0, 80));
"""


def _console_links(browser: Console) -> set[str]:
    found = set()
    for a in browser.driver.find_elements(By.CSS_SELECTOR, "a[href^='/console/'], a[href^='" + browser.base + "']"):
        href = (a.get_attribute("href") or "").removeprefix(browser.base)
        if href.startswith("/console/") and not href.startswith(("/console/language/", "/console/static/")) \
                and not href.endswith((".csv", "/document", ".pdf")) and "oidc" not in href:
            found.add(href.split("#")[0])
    return found


def test_every_linked_page_labels_its_fields(browser: Console, demo: dict) -> None:
    browser.sign_in(demo["gap_niss"], roles=("operator", "ops"))
    seen: set[str] = set()
    queue = ["/console/", f"/console/domains/{demo['domain_id']}/users", f"/console/domains/{demo['domain_id']}/sender"]
    problems = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        browser.go(path)
        unlabelled = browser.driver.execute_script(UNLABELLED)
        headings = browser.driver.find_elements(By.TAG_NAME, "h1")
        lang = browser.driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        if unlabelled or len(headings) != 1 or lang not in {"fr", "nl", "en"}:
            problems.append((path, unlabelled, len(headings), lang))
        queue.extend(sorted(_console_links(browser) - seen))
    assert len(seen) >= 3
    assert not problems, problems


def test_sign_in_with_the_keyboard_alone(browser: Console, demo: dict) -> None:
    browser.go("/console/sign-in")
    body = browser.driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    active = browser.driver.switch_to.active_element
    assert active.get_attribute("class") == "skip", "the first Tab reaches the skip link"
    for _ in range(30):  # Tab on until the NISS field has the focus
        if active.get_attribute("name") == "other_niss":
            break
        active.send_keys(Keys.TAB)
        active = browser.driver.switch_to.active_element
    assert active.get_attribute("name") == "other_niss"
    before = browser.driver.find_element(By.TAG_NAME, "html")
    active.send_keys(demo["gap_niss"], Keys.ENTER)
    browser._wait_stale(before)
    assert browser.path == "/console/" and "Demo Payroll SA" in browser.text
