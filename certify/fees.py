"""Fees for certified copies (TT 226/2016/TT-BTC art. 4).

Per copy, counted on the original's pages: 2,000 VND for each of pages 1-2, 1,000 VND for each
page from page 3, at most 200,000 VND per copy. An authority may waive e-copy fees.
"""

from __future__ import annotations

from certify.errors import InvalidInputError

FIRST_PAGES_FEE = 2_000  # VND, each of pages 1-2
FURTHER_PAGE_FEE = 1_000  # VND, each page from page 3
MAX_FEE_PER_COPY = 200_000  # VND


def fee_per_copy(pages: int) -> int:
    """The fee in VND for one certified copy of an original with ``pages`` pages.

    Raises:
        InvalidInputError: ``pages`` is not positive.
    """
    if pages < 1:
        raise InvalidInputError("Số trang phải lớn hơn 0. / Page count must be positive.")
    fee = FIRST_PAGES_FEE * min(pages, 2) + FURTHER_PAGE_FEE * max(pages - 2, 0)
    return min(fee, MAX_FEE_PER_COPY)


def certification_fee(pages: int, copies: int, *, waived: bool = False) -> int:
    """The fee in VND for ``copies`` copies of one original (0 when the authority waives it).

    Raises:
        InvalidInputError: ``pages`` or ``copies`` is not positive.
    """
    if copies < 1:
        raise InvalidInputError("Số bản sao phải lớn hơn 0. / Copy count must be positive.")
    per_copy = fee_per_copy(pages)
    return 0 if waived else per_copy * copies
