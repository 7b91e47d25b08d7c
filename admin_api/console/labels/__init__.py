"""Every word the console shows, in French, Dutch and English, by stable key (``t("users.filter")`` in templates).

Each screen keeps its own catalogue module; a key missing from all of them is an error (a test renders every
template's keys in all three languages), so no label is left in one language.
"""

from __future__ import annotations

from typing import Any

from admin_api.console.labels import common, enterprise, ops, registration, senders, users
from kernel import catalogue

Words = tuple[str, str, str]  # fr, nl, en
_INDEX = {"fr": 0, "nl": 1, "en": 2}
CATALOGUE: dict[str, Words] = {}
for _module in (common, registration, enterprise, users, senders, ops):
    _clash = CATALOGUE.keys() & _module.WORDS.keys()
    assert not _clash, f"label keys defined twice: {sorted(_clash)}"
    CATALOGUE.update(_module.WORDS)


def label(key: str, language: str, **params: Any) -> str:
    """The words of ``key`` in ``language`` (fr, nl, en), its ``{params}`` filled in."""
    words = CATALOGUE[key][_INDEX.get(language, 0)]
    return words.format(**params) if params else words


DOMAIN_KINDS = {catalogue.EMPLOYER_ONSS: "domain.kind.onss", catalogue.SOCIAL_SECRETARIAT: "domain.kind.ssa",
                catalogue.SERVICE_PROVIDER: "domain.kind.sps"}


def domain_kind(name: str, language: str) -> str:
    """A domain's kind ("Employeur ONSS") in the language; a name outside the catalogue as stored."""
    return label(DOMAIN_KINDS[name], language) if name in DOMAIN_KINDS else name
