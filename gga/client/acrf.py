"""Reading an ACRF (contract section 6) and finding the one that answers a GO among the return files."""

from __future__ import annotations

import io
import zipfile
from dataclasses import asdict, dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml.ElementTree import fromstring


@dataclass(frozen=True)
class Acknowledgement:
    file_name: str  # the GO it answers
    ticket: str  # ReferenceNbr
    result_code: str  # 1 accepted, 0 rejected
    errors: list[dict[str, str]] = field(default_factory=list)  # {"id": "ACRF-129", "description": "..."}

    @property
    def accepted(self) -> bool:
        return self.result_code == "1"

    def as_json(self) -> dict:
        return asdict(self)


def parse(content: bytes) -> Acknowledgement | None:
    """The ACRF in an FO's bytes; None when they are not one."""
    try:
        root = fromstring(content)
    except (ParseError, ValueError):
        return None
    if root.tag != "ACRF":
        return None
    errors = [{"id": e.findtext("ErrorID", ""), "description": e.findtext("ErrorDescription", "")}
              for e in root.findall("Error")]
    return Acknowledgement(root.findtext("FileName", ""), root.findtext("ReferenceNbr", ""),
                           root.findtext("ResultCode", ""), errors)


def unpacked(name: str, payload: bytes) -> bytes:
    """An FO's bytes as they are; a CO's (a zip holding one FO) unzipped."""
    if not name.startswith("CO."):
        return payload
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return archive.read(archive.namelist()[0])


def complete_sets(names: list[str], code: str | None = None) -> list[str]:
    """FO/CO return files whose GO is there (the gateway writes it last), optionally of one application code."""
    present = set(names)
    found = []
    for name in sorted(present):
        kind, _, rest = name.partition(".")
        if kind in ("FO", "CO") and f"GO.{rest}" in present and (code is None or rest.startswith(code + ".")):
            found.append(name)
    return found


def companions(name: str) -> tuple[str, str]:
    """The FS and GO delivered with an FO or CO."""
    rest = name.partition(".")[2]
    return f"FS.{rest}", f"GO.{rest}"
