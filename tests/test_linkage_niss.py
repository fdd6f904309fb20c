"""NISS normalisation and validation with a reason (numbers from domain-belgium.md §1.2)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from linkage_helpers import make_niss

from primex.errors import PrimexError
from primex.linkage import niss
from primex.linkage.niss import Reason


@pytest.mark.parametrize(
    "number",
    [
        "93.05.18-223.61",  # the worked example: 930518223 mod 97 = 36 -> 61
        "85.07.30-032.29",
        "05.03.14-017.09",  # born 2005: check computed with the 2 prefix
        "05.03.14-017.77",  # same digits, 1905
        "40.00.00-041.23",  # unknown month and day
        "90.42.12-084.91",  # BIS +40
        "90.22.12-084.48",  # BIS +20
        "03.49.25-005.68",  # BIS +40, 2003
    ],
)
def test_valid_numbers_normalise_to_nn11(number: str) -> None:
    nn11, reason = niss.check(number)
    assert reason is None
    assert nn11 == number.replace(".", "").replace("-", "")
    assert niss.check(f"  {number.replace('.', ' ')} ")[0] == nn11


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (None, Reason.MISSING),
        ("   ", Reason.MISSING),
        ("9305182236", Reason.WRONG_LENGTH),
        ("930518223611", Reason.WRONG_LENGTH),
        ("93O51822361", Reason.WRONG_LENGTH),  # letter O
        ("00000000000", Reason.WRONG_LENGTH),
        ("93051822362", Reason.BAD_CHECK_DIGITS),
        ("93051822300", Reason.BAD_CHECK_DIGITS),  # a check of 00 never exists
        ("85073000061", Reason.BAD_SERIAL),  # serial 000, stdnum accepts it
        ("85073099932", Reason.BAD_SERIAL),  # serial 999, stdnum accepts it
    ],
)
def test_invalid_numbers_have_their_reason(number: str | None, reason: Reason) -> None:
    assert niss.check(number) == (None, reason)


def test_impossible_month_is_a_bad_date() -> None:
    # Month 15: neither a national number (1-12) nor a BIS number (21-32 / 41-52).
    body = "901512084"
    bad = body + f"{97 - int(body) % 97:02d}"
    assert niss.check(bad) == (None, Reason.BAD_DATE)


def test_counts_by_reason_list_every_reason() -> None:
    values = ["93051822361", None, "123", "93051822362", "85073000061", "93051822361"]
    _, reasons = niss.check_many(values)
    assert niss.count_reasons(reasons) == {
        "missing": 1, "wrong_length": 1, "bad_check_digits": 1, "bad_date": 0, "bad_serial": 1,
    }


def test_integer_input_keeps_leading_zero() -> None:
    number = make_niss(date(2001, 2, 3), 17)  # starts with 0
    assert number[0] == "0"
    assert niss.check(int(number)) == (number, None)


def test_error_message_never_holds_the_number() -> None:
    with pytest.raises(PrimexError) as info:
        niss.to_nn11("93051822362", where="extract.parquet row 4")
    assert "93051822362" not in str(info.value) and "check digits" in str(info.value)


@given(
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2024, 12, 31)),
    serial=st.integers(1, 998),
    bis=st.sampled_from([0, 20, 40]),
)
def test_numbers_built_by_the_rule_are_valid(birth: date, serial: int, bis: int) -> None:
    number = make_niss(birth, serial, bis=bis)
    assert niss.check(number) == (number, None)
    assert niss.mod97_valid(number)
    # One wrong check digit is always caught (the check is 97 - N mod 97 in 1..97).
    wrong = number[:9] + f"{(int(number[9:]) % 97) + 1:02d}"
    assert niss.check(wrong)[1] in (Reason.BAD_CHECK_DIGITS, None)
    if niss.check(wrong)[1] is None:  # valid only under the other century's rule
        assert niss.mod97_valid(wrong)


@given(st.text(max_size=15))
def test_check_never_crashes(text: str) -> None:
    nn11, reason = niss.check(text)
    assert (nn11 is None) != (reason is None)
    if nn11 is not None:
        assert len(nn11) == 11 and nn11.isdigit()


@given(st.one_of(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.builds(make_niss, st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
              st.integers(0, 999), bis=st.sampled_from([0, 20, 40])),
))
def test_same_decision_as_stdnum_ssn(number: str) -> None:
    from stdnum.be import ssn

    expected = ssn.is_valid(number) and 1 <= int(number[6:9]) <= 998
    assert niss.is_valid(number) == expected
