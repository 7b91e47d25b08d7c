"""Belgian identifiers, validated with python-stdnum; each refusal names its field through its code."""

from __future__ import annotations

import re

from stdnum.be import ssn, vat
from stdnum.exceptions import ValidationError

from kernel.errors import ErrorCode, GGAError


def niss(value: str, field: str = "niss") -> str:
    """NISS: national number or bis number (births from 2000 included), 11 digits, separators allowed."""
    try:
        return ssn.validate(str(value))
    except ValidationError as exc:
        raise GGAError(ErrorCode.INVALID_NISS, f"{field}: {exc.message}", {"field": field}) from exc


def enterprise_number(value: str, field: str = "enterprise_number") -> str:
    """Enterprise number (numéro d'entreprise): 10 digits, mod 97; dots, spaces and dashes accepted."""
    raw = re.sub(r"[\s.\-]", "", str(value))
    try:
        return vat.validate(raw)
    except ValidationError as exc:
        raise GGAError(ErrorCode.INVALID_ENTERPRISE_NUMBER, f"{field}: {exc.message}", {"field": field}) from exc


def onss_number(value: str, field: str = "identifier") -> str:
    """Matricule ONSS, written ``9999999-99``. No public check-digit rule is applied: format only."""
    digits = re.sub(r"[\s.\-]", "", str(value))
    if not re.fullmatch(r"[0-9]{9}", digits) or digits == "0" * 9:  # ASCII: \d took full-width and Arabic digits
        raise GGAError(ErrorCode.INVALID_ONSS_NUMBER, f"{field}: expected 9 digits as 9999999-99",
                       {"field": field})
    return f"{digits[:7]}-{digits[7:]}"


def format_niss(value: str) -> str:
    """The guide's display form ``999999 999 99`` (also keeps spreadsheets from eating leading zeros)."""
    return f"{value[:6]} {value[6:9]} {value[9:]}"


def format_enterprise_number(value: str) -> str:
    return f"{value[:4]}.{value[4:7]}.{value[7:]}"
