"""The guide's success messages in the caller's language (FR, NL, EN; French when unknown)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "sender.created": {"fr": "L'expéditeur a bien été créé.", "nl": "De afzender werd aangemaakt.",
                       "en": "The sender has been created."},
    "sender.updated": {"fr": "Les données de l'expéditeur ont bien été enregistrées.",
                       "nl": "De gegevens van de afzender werden opgeslagen.", "en": "The sender has been updated."},
    "sender.deleted": {"fr": "L'expéditeur a bien été supprimé.", "nl": "De afzender werd verwijderd.",
                       "en": "The sender has been deleted."},
    "channel.added": {"fr": "Le canal a bien été ajouté.", "nl": "Het kanaal werd toegevoegd.",
                      "en": "The channel has been added."},
    "channel.updated": {"fr": "Le canal a bien été modifié.", "nl": "Het kanaal werd gewijzigd.",
                        "en": "The channel has been updated."},
    "channel.removed": {"fr": "Le canal a bien été supprimé.", "nl": "Het kanaal werd verwijderd.",
                        "en": "The channel has been removed."},
}


def language_of(accept_language: str | None, fallback: str | None = None) -> str:
    """First of fr/nl/en named by Accept-Language, else ``fallback``, else fr."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("fr", "nl", "en"):
            return tag
    return fallback if fallback in ("fr", "nl", "en") else "fr"


def message(key: str, language: str) -> str:
    return MESSAGES[key].get(language, MESSAGES[key]["fr"])
