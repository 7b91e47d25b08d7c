"""The ACRF acknowledgement document (contract section 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree as ET

from kernel.errors import ErrorCode, spec


@dataclass(frozen=True)
class Finding:
    """One error of a submission: its code, the file concerned and what exactly was wrong."""

    code: ErrorCode
    file_name: str
    detail: str = ""

    @property
    def error_id(self) -> str:
        return spec(self.code).acrf_id or str(self.code)

    def as_json(self) -> dict[str, str]:
        return {"code": str(self.code), "error_id": self.error_id, "file_name": self.file_name,
                "detail": self.detail, "message": self.description}

    @property
    def description(self) -> str:
        return self.describe("en")

    def describe(self, language: str) -> str:
        """The ACRF's ErrorDescription in the sender contact's language (its ErrorID stays the stable key)."""
        base = f"{self.code}: {spec(self.code).description}"
        return f"{base} ({self.file_name}: {self.detail})" if self.detail else f"{base} ({self.file_name})"


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
