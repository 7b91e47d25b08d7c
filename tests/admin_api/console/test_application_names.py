"""An English console page names the applications in English (Dutch and French ones in their language)."""

from __future__ import annotations

import re

import httpx

from kernel.catalogue import APPLICATIONS


def test_the_sender_and_user_pages_name_applications_in_the_persons_language(console_url: str, demo: dict) -> None:
    with httpx.Client(base_url=console_url, timeout=15) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/sign-in").text).group(1)
        signed = client.post("/console/sign-in", data={"csrf": token, "other_niss": demo["gap_niss"], "loa": "eid"})
        assert signed.status_code == 303, signed.text
        dmfa = APPLICATIONS["DMFA"]
        for lang in ("en", "nl", "fr"):
            client.cookies.set("gga_lang", lang, path="/console")
            for path in (f"/console/domains/{demo['domain_id']}/sender",
                         f"/console/domains/{demo['domain_id']}/users/new"):
                page = client.get(path)
                assert page.status_code == 200, (path, page.text[:300])
                others = {dmfa.name_fr, dmfa.name_nl, dmfa.name_en} - {dmfa.name_in(lang)}
                assert dmfa.name_in(lang) in page.text and not any(o in page.text for o in others), (lang, path)
