"""Vectorised NISS / BIS generation against python-stdnum, the reference implementation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.be import bis as stdnum_bis
from stdnum.be import nn as stdnum_nn
from stdnum.be import ssn as stdnum_ssn

from primex.errors import PrimexError
from primex.synthetic.niss import assign_serials, build_numbers, format_numbers, serial_in_range

people = st.lists(
    st.tuples(
        st.dates(min_value=dt.date(1920, 1, 1), max_value=dt.date(2008, 12, 31)),
        st.booleans(),  # male
        st.booleans(),  # BIS number
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(people, st.integers(min_value=0, max_value=2**32))
def test_generated_numbers_are_valid_and_carry_birth_date_and_sex(rows, seed):
    birth = np.array([r[0] for r in rows], dtype="datetime64[D]")
    male = np.array([r[1] for r in rows])
    bis = np.array([r[2] for r in rows])
    serial = assign_serials(np.random.default_rng(seed), birth, male, bis)
    numbers = format_numbers(build_numbers(birth, serial, bis))
    assert len(set(numbers)) == len(numbers)
    for (born, is_male, is_bis), number in zip(rows, numbers, strict=True):
        assert stdnum_ssn.is_valid(number)
        assert (stdnum_bis if is_bis else stdnum_nn).is_valid(number)
        assert stdnum_ssn.guess_type(number) == ("bis" if is_bis else "nn")
        assert stdnum_ssn.get_birth_date(number) == born  # the century rule was right
        assert stdnum_ssn.get_gender(number) == ("M" if is_male else "F")
        assert serial_in_range(number)


def test_known_vectors():
    # domain notes, section 1.2: numbers built by hand and checked with stdnum
    birth = np.array(["1993-05-18", "2005-03-14", "1990-02-12"], dtype="datetime64[D]")
    numbers = build_numbers(birth, np.array([223, 17, 84]), np.array([False, False, True]))
    assert format_numbers(numbers).tolist() == ["93051822361", "05031401709", "90421208491"]


def test_serials_fill_a_day_without_collision_then_refuse():
    day = np.full(499, np.datetime64("1990-01-01"))
    serial = assign_serials(np.random.default_rng(1), day, np.ones(499, bool), np.zeros(499, bool))
    assert sorted(serial) == list(range(1, 998, 2))  # every odd serial 001..997 once
    with pytest.raises(PrimexError, match="share a birth date"):
        assign_serials(
            np.random.default_rng(1),
            np.full(500, np.datetime64("1990-01-01")),
            np.ones(500, bool),
            np.zeros(500, bool),
        )
