"""WCAG 2.1 AA contrast of the console's colours, computed from the stylesheet itself (a changed colour is checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).parents[3] / "admin_api" / "console" / "static" / "console.css").read_text()
VARIABLES = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))

# (text, background) pairs the stylesheet puts together, by variable name or literal colour
PAIRS = [("ink", "paper"), ("blue", "paper"), ("muted", "paper"), ("error", "paper"), ("ok-ink", "ok-bg"),
         ("ink", "band"), ("blue", "band"), ("#ffffff", "blue"), ("#ffffff", "error")]


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(("text", "background"), PAIRS)
def test_text_on_its_background_reaches_4_5_to_1(text: str, background: str) -> None:
    colour = VARIABLES.get(text, text)
    behind = VARIABLES.get(background, background)
    assert _contrast(colour, behind) >= 4.5, f"{text} on {background}: {_contrast(colour, behind):.2f}:1"


def test_the_checker_itself_tells_low_contrast() -> None:
    assert _contrast("#777777", "#ffffff") < 4.5 < _contrast("#595959", "#ffffff")
