"""Every application of the catalogue is named in French, Dutch and English, and ``name_in`` picks the language."""

from __future__ import annotations

import pytest

from kernel.catalogue import APPLICATIONS


@pytest.mark.parametrize("code", sorted(APPLICATIONS))
def test_every_application_has_three_names(code: str) -> None:
    app = APPLICATIONS[code]
    names = (app.name_fr, app.name_nl, app.name_en)
    assert all(name.strip() == name and name for name in names), names
    assert [app.name_in(lang) for lang in ("fr", "nl", "en")] == list(names)


def test_name_in_falls_back_to_french_and_english_differs_where_french_is_not_a_proper_name() -> None:
    dmfa = APPLICATIONS["DMFA"]
    assert dmfa.name_in("de") == dmfa.name_in("") == dmfa.name_fr == "Déclaration multifonctionnelle DmfA"
    assert dmfa.name_en == "Multifunctional declaration DmfA"
    assert APPLICATIONS["DIMN"].name_en.startswith("DIMONA V2: "), "proper names kept as they are"
    assert APPLICATIONS["PUBL"].name_en == "Publiato"
    translated = [a for a in APPLICATIONS.values() if a.name_en != a.name_fr]
    assert len(translated) == len(APPLICATIONS) - 2, "all but the proper names Publiato and Ecaro batch"
