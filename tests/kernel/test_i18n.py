"""The language of messages: negotiation, every code's sentence in fr/nl/en, templates that format."""

import re
import string

import pytest

from kernel.errors import ErrorCode, GGAError, spec
from kernel.i18n import ACTIONS, FIELDS, LANGUAGES, MESSAGES, VALIDATION, field_label, negotiate, of_person, translate


@pytest.mark.parametrize(("header", "language"), [
    (None, "fr"), ("", "fr"), ("nl", "nl"), ("nl-BE", "nl"), ("EN-gb", "en"), ("fr-BE,fr;q=0.9", "fr"),
    ("de", "fr"), ("de-DE, nl;q=0.5", "nl"), ("de, en;q=0.3, nl;q=0.7", "nl"), ("en;q=0.2, nl;q=0.1", "en"),
    ("nl;q=0, en", "en"), ("*", "fr"), ("de, *;q=0.5, en;q=0.1", "fr"), ("en;q=oops, nl", "nl"),
    ("x" * 5000, "fr"), (",,;q=1,", "fr"),
])
def test_the_callers_language_is_negotiated(header, language):
    assert negotiate(header) == language


def test_a_persons_language_falls_back_to_french():
    assert [of_person(x) for x in ("nl", "en", "fr", "de", None, "")] == ["nl", "en", "fr", "fr", "fr", "fr"]


def test_every_error_code_has_its_sentence_in_each_language():
    for code in ErrorCode:
        s = spec(code)
        texts = [s.describe(lang) for lang in LANGUAGES]
        assert all(t.strip() for t in texts), code
        assert len(set(texts)) == 3, f"{code}: the three languages say the same"
        assert s.describe("de") == s.fr  # a language we do not write: French


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_templates_name_the_same_params_in_each_language_and_format():
    for table in (MESSAGES, VALIDATION, FIELDS, ACTIONS):
        for key, texts in table.items():
            assert set(texts) == set(LANGUAGES), key
            names = {lang: _names(t) for lang, t in texts.items()}
            assert names["fr"] == names["nl"] == names["en"], key
            for lang in LANGUAGES:
                params = {n: f"<{n}>" for n in names[lang]}
                text = translate(key, lang, **params) if table is MESSAGES else texts[lang].format(**params)
                assert "{" not in text and text.strip(), (key, lang)


def test_a_message_carries_its_facts_in_the_language():
    assert translate("not_found.domain", "nl", domain_id=7) == "Domein 7 bestaat niet."
    assert translate("application_not_in_domain", "en", applications=["DMFA", "DIMN"]) == (
        "Not offered in this domain: DMFA, DIMN.")
    assert translate("validation.required", "fr", fields=["first_name", "email"]) == (
        "Nouvelle personne : prénom, e-mail requis.")
    assert translate("forbidden.manage_co_main_managers", "en") == (
        "Your roles here do not allow you to designate or remove co main access managers.")
    assert translate("sender.created", "de") == "L'expéditeur a bien été créé."  # unknown language: French


def test_fields_are_named_as_a_person_would():
    assert field_label("main_access_manager.niss", "fr") == "NISS (Gestionnaire d'Accès Principal)"
    assert field_label("niss", "nl") == "INSZ"
    assert field_label("contact.emails.0", "en") == "e-mails (contact person)"
    assert field_label("", "en") == "request body" and field_label("nothing_known", "fr") == "nothing_known"


def test_an_error_speaks_the_language_asked_and_logs_in_english():
    err = GGAError(ErrorCode.NOT_FOUND, details={"domain_id": 3}, key="not_found.domain")
    assert err.message == "No domain 3." and str(err) == "NOT_FOUND: No domain 3."
    assert err.as_json("fr") == {"error": {"code": "NOT_FOUND", "message": "Le domaine 3 n'existe pas.",
                                           "details": {"domain_id": 3}}}
    plain = GGAError(ErrorCode.SENDER_BLOCKED, "Sender 123 is blocked.")
    assert plain.localized("en") == "Sender 123 is blocked."  # the raise site's English sentence
    assert plain.localized("nl") == spec(ErrorCode.SENDER_BLOCKED).nl
    assert GGAError(ErrorCode.USER_EXISTS).as_json()["error"]["message"] == spec(ErrorCode.USER_EXISTS).en


def test_no_french_left_in_the_english_sentences():
    french = re.compile(r"\b(le|la|les|des|est|une|pour|cette|vous)\b|[éèàç]", re.IGNORECASE)
    assert [c for c in ErrorCode if french.search(spec(c).en)] == []


def test_the_403_sentence_elides_in_french_only():
    """It read "ne vous permettent pas de approuver"; Dutch "om de Hoofdtoegangsbeheerder" keeps its article."""
    assert "pas d'approuver ou refuser" in translate("forbidden.decide_registration", "fr")
    assert "pas de consulter" in translate("forbidden.read_enterprise", "fr")
    assert "om de Hoofdtoegangsbeheerder" in translate("forbidden.change_main_manager", "nl")


def test_a_refusal_that_names_its_field_is_not_prefixed_twice():
    """"mot de passe : Mot de passe : 10 à 128 caractères...": the field's label, then the sentence naming it."""
    weak = GGAError(ErrorCode.PASSWORD_TOO_WEAK, details={"field": "password"})
    assert weak.localized("fr").startswith("Mot de passe : 10 à 128") and weak.localized("fr").count(":") == 1
    assert weak.localized("nl").startswith("Wachtwoord: 10 tot 128")
    assert GGAError(ErrorCode.INVALID_NISS, details={"field": "niss"}).localized("fr").startswith("NISS : ")
