"""Every word the console's templates ask for exists in French, Dutch and English, and the formats are Belgian."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from admin_api.console import formats
from admin_api.console.labels import CATALOGUE, label

TEMPLATES = Path(__file__).parents[3] / "admin_api" / "console" / "templates"
ASKED = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")


def _asked_keys() -> set[str]:
    return {key for page in TEMPLATES.rglob("*.html") for key in ASKED.findall(page.read_text())}


def test_templates_ask_only_for_words_that_exist() -> None:
    assert _asked_keys(), "the scan finds the templates' t(...) calls"
    asked = _asked_keys()
    prefixes = {k for k in asked if k.endswith(".")}  # t("role." ~ p.role): some key must start with it
    missing = sorted((asked - prefixes - CATALOGUE.keys()) | {p for p in prefixes if not any(
        k.startswith(p) for k in CATALOGUE)})
    assert not missing, f"labels used in templates but in no catalogue: {missing}"


@pytest.mark.parametrize("lang", ["fr", "nl", "en"])
def test_every_label_is_written_in_each_language(lang: str) -> None:
    empty = [key for key in CATALOGUE if not label(key, lang).strip()]
    assert not empty
    if lang != "fr":  # a Dutch or English label identical to the French one is a forgotten translation
        same = [k for k, (fr, nl, en) in CATALOGUE.items() if (nl if lang == "nl" else en) == fr and len(fr) > 12]
        assert not same, f"{lang} labels left in French: {same}"


def test_identifiers_dates_and_numbers_in_belgian_form() -> None:
    assert formats.enterprise_number("0403019261") == "0403.019.261"
    assert formats.niss("85073003328") == "850730 033 28"
    assert formats.when(datetime(2026, 11, 30, 13, 5, tzinfo=UTC)) == "30/11/2026 14:05"  # Brussels, winter
    assert formats.when(datetime(2026, 7, 1, 13, 5, tzinfo=UTC)) == "01/07/2026 15:05"  # summer time
    assert formats.number(1234567.5, 1) == "1.234.567,5"
    assert formats.number(42) == "42"
