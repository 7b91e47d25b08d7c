import json

from sqlalchemy import func, select

from admin_api.registry import import_extract, is_current_legal_representative
from store.models import Enterprise, LegalFunction
from tests import factories


def test_import_is_idempotent_and_normalises_numbers(db):
    lr = factories.niss()
    extract = {"persons": [{"niss": lr, "first_name": "A", "last_name": "B"}],
               "enterprises": [{"number": "0403.019.261", "name": "Acme", "address": "x",
                                "legal_representatives": [{"niss": lr, "function": "Gérant", "start": "2020-01-01",
                                                           "end": None}]}]}
    for _ in range(2):
        with db.session() as session:
            import_extract(session, json.loads(json.dumps(extract)))
    with db.session() as session:
        assert session.get(Enterprise, "0403019261").name == "Acme"
        assert session.scalar(select(func.count()).select_from(LegalFunction)) == 1


def test_only_a_current_function_counts(db):
    current, former, future = factories.niss(), factories.niss(), factories.niss()
    number = factories.enterprise_number(42)
    with db.session() as session:
        import_extract(session, {"enterprises": [{"number": number, "name": "X", "legal_representatives": [
            {"niss": current, "function": "Gérant", "start": "2001-01-01", "end": None},
            {"niss": former, "function": "Gérant", "start": "2001-01-01", "end": "2020-12-31"},
            {"niss": future, "function": "Gérant", "start": "2999-01-01", "end": None}]}]})
        assert is_current_legal_representative(session, number, current)
        assert not is_current_legal_representative(session, number, former)
        assert not is_current_legal_representative(session, number, future)
