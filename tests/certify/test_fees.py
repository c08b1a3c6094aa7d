"""Fees per TT 226/2016/TT-BTC art. 4."""

from __future__ import annotations

import pytest

from certify.errors import InvalidInputError
from certify.fees import certification_fee, fee_per_copy


@pytest.mark.parametrize(
    ("pages", "fee"),
    [
        (1, 2_000),
        (2, 4_000),
        (3, 5_000),
        (10, 12_000),
        (198, 200_000),
        (199, 200_000),
        (500, 200_000),
    ],
)
def test_fee_per_copy(pages: int, fee: int) -> None:
    assert fee_per_copy(pages) == fee


def test_fee_counts_every_copy_and_honours_a_waiver() -> None:
    assert certification_fee(3, 4) == 20_000
    assert certification_fee(3, 4, waived=True) == 0


@pytest.mark.parametrize(("pages", "copies"), [(0, 1), (1, 0), (-1, 2)])
def test_nonsense_counts_are_refused(pages: int, copies: int) -> None:
    with pytest.raises(InvalidInputError):
        certification_fee(pages, copies)
