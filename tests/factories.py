"""Valid Belgian identifiers and register extracts for tests."""

from __future__ import annotations

import itertools

_seq = itertools.count(1)


def niss(year: int = 1985, month: int = 7, day: int = 30, seq: int | None = None) -> str:
    """A valid national number (the check uses a leading 2 for births from 2000 on)."""
    seq = seq if seq is not None else next(_seq) % 997 + 1
    base = f"{year % 100:02d}{month:02d}{day:02d}{seq:03d}"
    value = int(("2" if year >= 2000 else "") + base)
    return f"{base}{97 - value % 97:02d}"


def enterprise_number(n: int) -> str:
    first8 = f"0{n:07d}"
    return f"{first8}{97 - int(first8) % 97:02d}"


def registry_extract(enterprises: dict[str, list[str]], persons: dict[str, tuple[str, str]]) -> dict:
    return {
        "persons": [{"niss": k, "first_name": f, "last_name": last} for k, (f, last) in persons.items()],
        "enterprises": [{"number": number, "name": f"Enterprise {number}", "address": "Rue Haute 1, 1000 Bruxelles",
                         "legal_representatives": [{"niss": lr, "function": "Administrateur", "start": "2010-01-01",
                                                    "end": None} for lr in lrs]}
                        for number, lrs in enterprises.items()],
    }


def bare_sender(session):  # type: ignore[no-untyped-def]
    """Enterprise 0123456749, a domain and sender 123456 (EXPuser1): the least rows a transfer-log row can name."""
    from store.models import Domain, Enterprise, Sender

    session.add(Enterprise(number="0123456749", name="E"))
    session.flush()
    domain = Domain(enterprise_number="0123456749", name="D", identifier="1-1")
    session.add(domain)
    session.flush()
    sender = Sender(number="123456", domain_id=domain.id, contact={}, technical_user="EXPuser1",
                    technical_user_key="expuser1", password_hash="-")
    session.add(sender)
    session.flush()
    return sender
