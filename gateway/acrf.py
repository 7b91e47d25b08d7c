"""The ACRF acknowledgement document (contract section 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from kernel.errors import ErrorCode, spec
from kernel.i18n import of_person

# What exactly was wrong, by key: (en, fr, nl). A finding's detail reads English (the transfer log, the API) and
# keeps its key and facts (stored with the decision), so the ACRF can say it in the sender contact's language.
DETAILS: dict[str, tuple[str, str, str]] = {
    "sender": ("{found} is not sender {sender}", "{found} n'est pas l'expéditeur {sender}",
               "{found} is niet afzender {sender}"),
    "folder": ("in /{folder}, expected /{expected}", "dans /{folder}, attendu dans /{expected}",
               "in /{folder}, verwacht in /{expected}"),
    "application.unknown": ("unknown application {application}", "application inconnue {application}",
                            "onbekende toepassing {application}"),
    "application.channel": ("{application} on the {channel} channel", "{application} sur le canal {channel}",
                            "{application} via het kanaal {channel}"),
    "date.invalid": ("{day} is not a date", "{day} n'est pas une date", "{day} is geen datum"),
    "date.future": ("{day} is in the future", "{day} est dans le futur", "{day} ligt in de toekomst"),
    "date.old": ("{day} is older than {days} days", "{day} date de plus de {days} jours",
                 "{day} is ouder dan {days} dagen"),
    "part.total": ("part of {total}, the GO says {expected}", "partie de {total}, le GO en annonce {expected}",
                   "deel van {total}, de GO vermeldt {expected}"),
    "part.missing": ("FI part {part} of {total} is missing", "la partie FI {part} de {total} manque",
                     "FI-deel {part} van {total} ontbreekt"),
    "part.too_large": ("refused while receiving", "refusé à la réception", "geweigerd bij ontvangst"),
    "identification": ("Form/Identification is '{found}'; expected '{expected}' for application {application}",
                       "Form/Identification vaut '{found}' ; attendu '{expected}' pour l'application {application}",
                       "Form/Identification is '{found}'; verwacht '{expected}' voor toepassing {application}"),
}
_COLUMN = {"en": 0, "fr": 1, "nl": 2}


class Detail(str):
    """What exactly was wrong: the English text, carrying the key and facts it was made from."""

    key: str
    facts: dict[str, Any]

    def __new__(cls, key: str, facts: dict[str, Any]) -> Detail:
        made = super().__new__(cls, DETAILS[key][0].format(**facts))
        made.key, made.facts = key, facts
        return made

    def say(self, language: str) -> str:
        return DETAILS[self.key][_COLUMN.get(language, 1)].format(**self.facts)


def detail(key: str, **facts: Any) -> Detail:
    """A finding's detail from its key and facts (JSON values: they are stored with the decision)."""
    return Detail(key, facts)


@dataclass(frozen=True)
class Finding:
    """One error of a submission: its code, the file concerned and what exactly was wrong."""

    code: ErrorCode
    file_name: str
    detail: str = ""

    @property
    def error_id(self) -> str:
        return spec(self.code).acrf_id or str(self.code)

    def as_json(self) -> dict[str, Any]:
        kept = {"detail_key": self.detail.key, "facts": self.detail.facts} if isinstance(self.detail, Detail) else {}
        return {"code": str(self.code), "error_id": self.error_id, "file_name": self.file_name,
                "detail": self.detail, "message": self.description} | kept

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Finding:
        """A finding as the decision stored it (``as_json``)."""
        key = stored.get("detail_key")
        text = Detail(key, stored.get("facts") or {}) if key in DETAILS else stored.get("detail", "")
        return cls(ErrorCode(stored["code"]), stored["file_name"], text)

    @property
    def description(self) -> str:
        return self.describe("en")

    def describe(self, language: str) -> str:
        """The ACRF's ErrorDescription in the sender contact's language (French when it has none we write; its
        ErrorID stays the stable key)."""
        lang = of_person(language)
        base = f"{self.code}: {spec(self.code).describe(lang)}"
        if not self.detail:
            return f"{base} ({self.file_name})"
        said = self.detail.say(lang) if isinstance(self.detail, Detail) else self.detail
        return f"{base} ({self.file_name}: {said})"


@dataclass(frozen=True)
class PartSummary:
    name: str
    size: int
    sha256: str


def document(go_name: str, ticket: str, findings: list[Finding], received_at: datetime,
             parts: list[PartSummary], language: str = "fr") -> bytes:
    root = ET.Element("ACRF")
    ET.SubElement(root, "FileName").text = go_name
    ET.SubElement(root, "ReferenceNbr").text = ticket
    ET.SubElement(root, "ResultCode").text = "0" if findings else "1"
    ET.SubElement(root, "ReceptionDate").text = received_at.isoformat(timespec="seconds")
    for finding in findings:
        error = ET.SubElement(root, "Error")
        ET.SubElement(error, "ErrorID").text = finding.error_id
        ET.SubElement(error, "ErrorDescription").text = finding.describe(language)
    files = ET.SubElement(root, "Files")
    for part in parts:
        ET.SubElement(files, "File", {"name": part.name, "size": str(part.size), "sha256": part.sha256})
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"
