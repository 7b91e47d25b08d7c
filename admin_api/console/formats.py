"""Identifiers, dates and numbers as the guide and Belgian readers write them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kernel import identifiers
from kernel.clock import BRUSSELS


def enterprise_number(number: str | None) -> str:
    """``0403019261`` -> ``0403.019.261`` (anything else as given)."""
    digits = number or ""
    return identifiers.format_enterprise_number(digits) if len(digits) == 10 and digits.isdigit() else digits


def niss(value: str | None) -> str:
    """``85073003328`` -> ``850730 033 28`` (the guide's way: birth date, serial, check digits)."""
    digits = value or ""
    return identifiers.format_niss(digits) if len(digits) == 11 and digits.isdigit() else digits


def when(value: datetime | date | str | None, with_time: bool = True) -> str:
    """``30/11/2026 14:05`` in Brussels time (stored times are UTC); ISO strings are read first."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        local = aware.astimezone(BRUSSELS)
        return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def number(value: int | float | None, decimals: int = 0) -> str:
    """``1234567.5`` -> ``1.234.567,5``: dot for thousands, comma for decimals."""
    if value is None:
        return ""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")
