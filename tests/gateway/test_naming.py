"""The batch file-name grammar PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]]: what parses, what is refused and why."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.naming import BatchName, parse
from kernel.errors import ErrorCode, GGAError

BASE = "DMFA.123456.20260115.0000A.T"


def refused(name: str) -> GGAError:
    with pytest.raises(GGAError) as caught:
        parse(name)
    assert caught.value.code == ErrorCode.FILE_NAME_INVALID
    return caught.value


# -- valid names ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "expected"), [
    (f"FI.{BASE}.3.2", BatchName("FI", "DMFA", "123456", "20260115", "0000A", "T", 3, 2)),
    (f"FS.{BASE}.1.1", BatchName("FS", "DMFA", "123456", "20260115", "0000A", "T", 1, 1)),
    (f"GO.{BASE}.3", BatchName("GO", "DMFA", "123456", "20260115", "0000A", "T", 3, None)),
    (f"TD.{BASE}.3", BatchName("TD", "DMFA", "123456", "20260115", "0000A", "T", 3, None)),
    (f"TD.{BASE}", BatchName("TD", "DMFA", "123456", "20260115", "0000A", "T")),
    ("FO.ACRF.999999.20260115.Z9Z9Z.R", BatchName("FO", "ACRF", "999999", "20260115", "Z9Z9Z", "R")),
    ("CO.NOTI.999999.20260115.00001.S", BatchName("CO", "NOTI", "999999", "20260115", "00001", "S")),
    ("FI.ZIMA.000000.99999999.ZZZZZ.X.9.9", BatchName("FI", "ZIMA", "000000", "99999999", "ZZZZZ", "X", 9, 9)),
])
def test_valid_names_parse_and_print_back(name, expected):
    parsed = parse(name)
    assert parsed == expected
    assert str(parsed) == name
    assert parse(str(expected)) == expected


_upper = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_alnum = st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@st.composite
def batch_names(draw) -> BatchName:
    kind = draw(st.sampled_from(["FI", "FS", "GO", "TD", "FO", "CO"]))
    sequence = draw(st.text(_alnum, min_size=5, max_size=5).filter(lambda s: s != "00000"))
    fields = dict(application=draw(st.text(_upper, min_size=4, max_size=4)),
                  sender=draw(st.text("0123456789", min_size=6, max_size=6)),
                  day=draw(st.text("0123456789", min_size=8, max_size=8)), sequence=sequence,
                  environment=draw(_upper))
    total = draw(st.integers(1, 9))
    if kind in ("FI", "FS"):
        return BatchName(kind, **fields, total=total, part=draw(st.integers(1, total)))
    if kind == "GO":
        return BatchName(kind, **fields, total=total)
    if kind == "TD":
        return BatchName(kind, **fields, total=draw(st.none() | st.just(total)))
    tail = draw(st.sampled_from(["none", "total", "both"]))
    return BatchName(kind, **fields, total=None if tail == "none" else total,
                     part=draw(st.integers(1, total)) if tail == "both" else None)


@given(batch_names())
def test_every_well_formed_name_round_trips(name):
    text = str(name)
    assert parse(text) == name
    assert str(parse(text)) == text
    assert parse(text).base == ".".join(text.split(".")[1:6])


# -- malformed segments -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "segment"), [
    (f"XX.{BASE}.1.1", "PP"),
    (f"fi.{BASE}.1.1", "PP"),
    ("FI.DmfA.123456.20260115.0000A.T.1.1", "AAAA"),
    ("FI.DMF.123456.20260115.0000A.T.1.1", "AAAA"),
    ("FI.DMFA1.123456.20260115.0000A.T.1.1", "AAAA"),
    ("FI.DMFA.12345.20260115.0000A.T.1.1", "SSSSSS"),
    ("FI.DMFA.12345A.20260115.0000A.T.1.1", "SSSSSS"),
    ("FI.DMFA.123456.2026011.0000A.T.1.1", "YYYYMMDD"),
    ("FI.DMFA.123456.2026-1-15.0000A.T.1.1", "YYYYMMDD"),
    ("FI.DMFA.123456.20260115.00000.T.1.1", "NNNNN"),
    ("FI.DMFA.123456.20260115.0000a.T.1.1", "NNNNN"),
    ("FI.DMFA.123456.20260115.000A.T.1.1", "NNNNN"),
    ("FI.DMFA.123456.20260115.0000A.t.1.1", "E"),
    ("FI.DMFA.123456.20260115.0000A.TT.1.1", "E"),
    ("FI.DMFA.123456.20260115.0000A.1.1.1", "E"),
])
def test_each_malformed_segment_is_refused_by_name(name, segment):
    err = refused(name)
    value = name.split(".")[["PP", "AAAA", "SSSSSS", "YYYYMMDD", "NNNNN", "E"].index(segment)]
    assert f"{segment} '{value}' must be" in err.message
    assert err.message.startswith(name)
    assert err.details == {"file_name": name}


def test_the_first_bad_segment_is_the_one_named():
    assert "AAAA 'dmfa'" in refused("FI.dmfa.12345.20260115.0000A.T.1.1").message


@pytest.mark.parametrize("name", [f"FI.{BASE}.1.1 ", f"GO.{BASE}.1\t", f" GO.{BASE}.1", f"GO.{BASE}.1\x00"])
def test_a_space_or_a_control_character_is_named_as_such(name):
    """A trailing space or a NUL was told "T and n are single digits 1-9" (found by an outside test helper)."""
    err = refused(name)
    assert "no spaces or control characters" in err.message and "\x00" not in err.message.replace("\\x00", "")


@pytest.mark.parametrize("name", [
    f"FI.{BASE}.0.1", f"FI.{BASE}.1.0", f"FI.{BASE}.10.1", f"FI.{BASE}.A.1", f"GO.{BASE}.0", f"GO.{BASE}.",
])
def test_total_and_part_are_single_digits_1_to_9(name):
    assert "T and n are single digits 1-9" in refused(name).message


@pytest.mark.parametrize(("name", "why"), [
    (f"FI.{BASE}", "FI files carry T.n"),
    (f"FI.{BASE}.2", "FI files carry T.n"),
    (f"FS.{BASE}.2", "FS files carry T.n"),
    (f"GO.{BASE}", "GO carries T, the total number of parts"),
    (f"GO.{BASE}.2.1", "GO carries only T"),
    (f"TD.{BASE}.2.1", "TD carries only T"),
    (f"FI.{BASE}.2.3", "part 3 of 2"),
    (f"FS.{BASE}.1.9", "part 9 of 1"),
])
def test_parts_follow_the_kind(name, why):
    assert why in refused(name).message


@pytest.mark.parametrize("name", [
    "DMFA.123456.20260115.0000A.T",  # 5 fields
    f"FI.{BASE}.1.1.1",  # 9 fields
    "FI_DMFA_123456_20260115_0000A_T_1_1",
])
def test_wrong_number_of_fields(name):
    assert "expected PP.AAAA.SSSSSS.YYYYMMDD.NNNNN.E[.T[.n]]" in refused(name).message


def test_an_empty_field_is_a_bad_segment():
    assert "AAAA '' must be" in refused("GO..DMFA.123456.20260115.0000A.T").message


def test_empty_name():
    assert "not a batch file name" in refused("").message


@pytest.mark.parametrize("name", [
    f"FI.{BASE}.1.1" + "." + "A" * 40,  # longer than 64 characters
    "FI.DMFA.123456.20260115.0000É.T.1.1",  # not ASCII
    "FI.DMFA.123456.20260115.0000Ａ.T.1.1",  # full-width letter
    f"../INTEST/FI.{BASE}.1.1",
    f"FI.{BASE}.1.1/x",
    f"FI.{BASE}\\.1.1",
])
def test_length_ascii_and_path_limits(name):
    err = refused(name)
    assert "not a batch file name" in err.message
    assert err.details["file_name"] == name[:64]


def test_64_characters_is_the_limit_not_a_valid_name():
    # 64 characters reaches the field checks (and fails there), 65 is refused before
    assert "not a batch file name" not in refused("FI." + "A" * 61).message
    assert "not a batch file name" in refused("FI." + "A" * 62).message


# -- the helpers ------------------------------------------------------------------------------------------------------
def test_base_is_the_name_without_kind_and_parts():
    assert parse(f"FI.{BASE}.3.2").base == BASE
    assert parse(f"GO.{BASE}.3").base == BASE
    assert parse(f"TD.{BASE}").base == BASE


def test_with_kind_keeps_everything_else():
    fi = parse(f"FI.{BASE}.3.2")
    fs = fi.with_kind("FS")
    assert str(fs) == f"FS.{BASE}.3.2"
    assert fi.kind == "FI"  # a new name, the original is untouched
    assert parse(str(fs)).with_kind("FI") == fi


@pytest.mark.parametrize(("name", "go"), [
    (f"FI.{BASE}.3.2", f"GO.{BASE}.3"),
    (f"FS.{BASE}.1.1", f"GO.{BASE}.1"),
    (f"GO.{BASE}.4", f"GO.{BASE}.4"),
    (f"TD.{BASE}", f"GO.{BASE}.1"),
])
def test_closing_go(name, go):
    closing = parse(name).closing_go()
    assert str(closing) == go
    assert parse(str(closing)) == closing


@pytest.mark.parametrize(("day", "expected"), [
    ("20260115", date(2026, 1, 15)),
    ("20240229", date(2024, 2, 29)),
    ("20230229", None),
    ("20261340", None),
    ("20261200", None),
    ("00000101", None),
    ("99991231", date(9999, 12, 31)),
])
def test_creation_date(day, expected):
    assert parse(f"GO.DMFA.123456.{day}.0000A.T.1").creation_date() == expected
