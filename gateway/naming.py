"""The batch file-name grammar ``PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]]``, parsed in one place.

Only the form is checked here (a name that does not parse is refused at once, with the segment at fault);
what the name *says* (sender, date, environment, folder) is checked when the submission is processed and
reported in the ACRF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from kernel.errors import ErrorCode, GGAError
from kernel.mailboxes import RETURN_FOLDERS

ENVIRONMENTS = {"R": "IN", "T": "INTEST", "S": "INTEST-S"}
UPLOAD_FOLDERS = frozenset(ENVIRONMENTS.values())
ALL_FOLDERS = UPLOAD_FOLDERS | frozenset(RETURN_FOLDERS.values())

_SEGMENTS = [
    ("PP", re.compile(r"FI|FS|GO|TD|FO|CO"), "FI, FS, GO or TD"),
    ("AAAA", re.compile(r"[A-Z]{4}"), "4 capital letters (application code)"),
    ("SSSSSS", re.compile(r"\d{6}"), "6 digits (sender number)"),
    ("YYYYMMDD", re.compile(r"\d{8}"), "8 digits (creation date)"),
    ("NNNNN", re.compile(r"(?!00000)[0-9A-Z]{5}"), "5 characters 0-9A-Z, not all zeros"),
    ("E", re.compile(r"[A-Z]"), "one letter (R, T or S)"),
]


@dataclass(frozen=True)
class BatchName:
    kind: str
    application: str
    sender: str
    day: str
    sequence: str
    environment: str
    total: int | None = None
    part: int | None = None

    @property
    def base(self) -> str:
        """The submission's identity: the name without PP and parts."""
        return f"{self.application}.{self.sender}.{self.day}.{self.sequence}.{self.environment}"

    def __str__(self) -> str:
        tail = "".join(f".{x}" for x in (self.total, self.part) if x is not None)
        return f"{self.kind}.{self.base}{tail}"

    def with_kind(self, kind: str) -> BatchName:
        return replace(self, kind=kind)

    def closing_go(self) -> BatchName:
        """The GO that closes this name's submission (``GO...T``)."""
        return replace(self, kind="GO", total=self.total or 1, part=None)

    def creation_date(self) -> date | None:
        try:
            return date(int(self.day[:4]), int(self.day[4:6]), int(self.day[6:]))
        except ValueError:
            return None


def _invalid(name: str, why: str) -> GGAError:
    return GGAError(ErrorCode.FILE_NAME_INVALID, f"{name}: {why}", {"file_name": name})


def parse(name: str) -> BatchName:
    if not name or len(name) > 64 or not name.isascii() or "/" in name or "\\" in name:
        raise _invalid(name[:64], "not a batch file name")
    if any(c.isspace() or not c.isprintable() for c in name):  # a trailing space was "T and n are single digits"
        raise _invalid(repr(name)[1:-1], "a batch file name has no spaces or control characters")
    fields = name.split(".")
    if len(fields) < 6 or len(fields) > 8:
        raise _invalid(name, "expected PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]]")
    for (segment, pattern, rule), value in zip(_SEGMENTS, fields, strict=False):
        if not pattern.fullmatch(value):
            raise _invalid(name, f"{segment} '{value}' must be {rule}")
    parts = fields[6:]
    if any(not re.fullmatch(r"[1-9]", p) for p in parts):
        raise _invalid(name, "T and n are single digits 1-9")
    total, part = (int(parts[0]) if parts else None), (int(parts[1]) if len(parts) > 1 else None)
    kind = fields[0]
    if kind in ("FI", "FS") and part is None:
        raise _invalid(name, f"{kind} files carry T.n (total parts and this part)")
    if kind in ("GO", "TD") and part is not None:
        raise _invalid(name, f"{kind} carries only T, the total number of parts")
    if kind == "GO" and total is None:
        raise _invalid(name, "GO carries T, the total number of parts")
    if part is not None and total is not None and part > total:
        raise _invalid(name, f"part {part} of {total}")
    return BatchName(kind, fields[1], fields[2], fields[3], fields[4], fields[5], total, part)
