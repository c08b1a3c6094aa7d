"""The VietQR payload: a QR code a citizen scans in any Vietnamese banking app to pay a fee
by transfer (NAPAS 247 "QR chuyển tiền").

The payload is an EMVCo Merchant-Presented Mode QR code (EMV QRCPS-MPM v1.1) with NAPAS's
merchant account template. Every field is ``ID`` (2 digits) ``LEN`` (2 digits, the value's
length in characters) ``VALUE``; the fields, in order (EMV QRCPS-MPM §4.2, §4.7):

1. ``00`` payload format indicator ``"01"``;
2. ``01`` point of initiation ``"12"``: dynamic, one payment of a fixed amount;
3. ``38`` merchant account information (NAPAS): ``00`` the NAPAS GUID ``"A000000727"``,
   ``01`` the beneficiary organisation (``00`` the bank's 6-digit BIN, ``01`` the account
   number), ``02`` the service ``"QRIBFTTA"`` (transfer to an account);
4. ``53`` currency ``"704"`` (VND, ISO 4217); ``54`` the amount in whole đồng (VND has no
   minor unit); ``58`` country ``"VN"``;
5. ``62`` additional data: ``08`` purpose of transaction, the transfer's reference (what
   the office matches a payment to its request by);
6. ``63`` CRC: ``"6304"`` then the CRC-16/CCITT-FALSE of everything before it, ``"6304"``
   included, as 4 uppercase hex digits (EMV QRCPS-MPM §4.7.3).

Public API: :func:`vietqr_payload`, :func:`crc16`, :func:`parse_tlv` (a payload's top-level
fields, CRC checked) and :func:`parse_fields` (a template's sub-fields, e.g. field ``38``).
Every refusal is an :class:`~certify.errors.InvalidInputError`: code ``vietqr_invalid``
(an input or a payload that does not fit the layout) or ``vietqr_crc_mismatch``.
"""

from __future__ import annotations

import binascii
import re
from typing import Final

from certify.errors import InvalidInputError

__all__ = ["crc16", "parse_fields", "parse_tlv", "vietqr_payload"]

NAPAS_GUID: Final = "A000000727"
SERVICE_TRANSFER_TO_ACCOUNT: Final = "QRIBFTTA"
CURRENCY_VND: Final = "704"
COUNTRY_VN: Final = "VN"
# The largest amount the office asks for: 11 digits (EMV allows 13 characters in field 54).
MAX_AMOUNT: Final = 99_999_999_999

# ASCII classes on purpose: str.isdigit() also accepts Arabic-Indic and other digits.
_BIN: Final = re.compile(r"[0-9]{6}")
_ACCOUNT: Final = re.compile(r"[A-Za-z0-9]{1,19}")
_REFERENCE: Final = re.compile(r"[A-Za-z0-9 ]{1,25}")
_CRC_FIELD: Final = "6304"


def _invalid(vi: str, en: str) -> InvalidInputError:
    return InvalidInputError(f"{vi} / {en}", code="vietqr_invalid")


def crc16(data: str) -> str:
    """The CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) of
    ``data``'s ASCII bytes, as 4 uppercase hex digits (EMV QRCPS-MPM §4.7.3).

    Raises:
        InvalidInputError: code ``vietqr_invalid`` when ``data`` is not ASCII.
    """
    try:
        raw = data.encode("ascii")
    except UnicodeEncodeError as exc:
        raise _invalid(
            "Mã QR chỉ chứa ký tự ASCII.", "A QR payload holds ASCII characters only."
        ) from exc
    # binascii.crc_hqx is exactly CRC-CCITT (XModem) from a given start: with 0xFFFF it is
    # CCITT-FALSE.
    return f"{binascii.crc_hqx(raw, 0xFFFF):04X}"


def _field(field_id: str, value: str) -> str:
    """One TLV field. Raises InvalidInputError when ``value`` is longer than 99 characters."""
    if not 0 < len(value) <= 99:
        raise _invalid(
            f"Trường {field_id} của mã QR dài quá 99 ký tự hoặc rỗng.",
            f"QR field {field_id} is empty or longer than 99 characters.",
        )
    return f"{field_id}{len(value):02d}{value}"


def vietqr_payload(*, bank_bin: str, account_number: str, amount: int, reference: str) -> str:
    """The VietQR payload asking for ``amount`` đồng to ``account_number`` at the bank
    ``bank_bin`` (its 6-digit NAPAS acquirer BIN), with ``reference`` as the transfer's
    content (the module's docstring gives the layout).

    Raises:
        InvalidInputError: code ``vietqr_invalid`` when the BIN is not 6 digits, the account
            not 1–19 letters or digits, the amount not a whole number in 1..99,999,999,999,
            or the reference not 1–25 characters of A–Z, a–z, 0–9 and space.
    """
    if not _BIN.fullmatch(bank_bin):
        raise _invalid("Mã BIN ngân hàng phải có 6 chữ số.", "The bank BIN must be 6 digits.")
    if not _ACCOUNT.fullmatch(account_number):
        raise _invalid(
            "Số tài khoản phải có 1–19 chữ hoặc số.",
            "The account number must be 1–19 letters or digits.",
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise _invalid(
            "Số tiền phải là số nguyên đồng từ 1 đến 99.999.999.999.",
            "The amount must be a whole number of đồng from 1 to 99,999,999,999.",
        )
    if not _REFERENCE.fullmatch(reference):
        raise _invalid(
            "Nội dung chuyển khoản phải có 1–25 ký tự chữ, số hoặc dấu cách (không dấu).",
            "The transfer reference must be 1–25 unaccented letters, digits or spaces.",
        )
    beneficiary = _field("00", bank_bin) + _field("01", account_number)
    merchant = (
        _field("00", NAPAS_GUID)
        + _field("01", beneficiary)
        + _field("02", SERVICE_TRANSFER_TO_ACCOUNT)
    )
    body = (
        _field("00", "01")
        + _field("01", "12")
        + _field("38", merchant)
        + _field("53", CURRENCY_VND)
        + _field("54", str(amount))
        + _field("58", COUNTRY_VN)
        + _field("62", _field("08", reference))
        + _CRC_FIELD
    )
    return body + crc16(body)


def parse_fields(text: str) -> dict[str, str]:
    """The TLV fields of ``text`` (a payload, or a template's value such as field ``38``),
    by ID, without any CRC check.

    Raises:
        InvalidInputError: code ``vietqr_invalid`` when a field is cut short, an ID or a
            length is not 2 digits, or an ID repeats.
    """
    fields: dict[str, str] = {}
    at = 0
    while at < len(text):
        field_id, length = text[at : at + 2], text[at + 2 : at + 4]
        if not (re.fullmatch(r"[0-9]{2}", field_id) and re.fullmatch(r"[0-9]{2}", length)):
            raise _invalid(
                f"Mã QR hỏng ở vị trí {at}.", f"The QR payload is malformed at position {at}."
            )
        end = at + 4 + int(length)
        if end > len(text):
            raise _invalid(
                f"Trường {field_id} của mã QR bị cắt ngắn.", f"QR field {field_id} is cut short."
            )
        if field_id in fields:
            raise _invalid(
                f"Trường {field_id} của mã QR bị lặp.", f"QR field {field_id} is repeated."
            )
        fields[field_id] = text[at + 4 : end]
        at = end
    return fields


def parse_tlv(payload: str) -> dict[str, str]:
    """The top-level fields of ``payload`` by ID (``"63"`` included), after checking that
    it ends with the CRC field and that the CRC is right (EMV QRCPS-MPM §4.7.3).

    Raises:
        InvalidInputError: code ``vietqr_crc_mismatch`` when the CRC is wrong (a character
            changed); ``vietqr_invalid`` when the payload does not end with a CRC field or
            is otherwise malformed.
    """
    if len(payload) < 8 or payload[-8:-4] != _CRC_FIELD:
        raise _invalid(
            "Mã QR không kết thúc bằng trường CRC (63).",
            "The QR payload does not end with its CRC field (63).",
        )
    if crc16(payload[:-4]) != payload[-4:].upper():
        raise InvalidInputError(
            "Mã QR sai mã kiểm tra CRC (bị đọc sai hoặc bị sửa). / "
            "The QR payload's CRC does not match (misread or altered).",
            code="vietqr_crc_mismatch",
        )
    fields = parse_fields(payload)
    if list(fields)[-1] != "63":  # "6304" was inside another field's value
        raise _invalid(
            "Mã QR không kết thúc bằng trường CRC (63).",
            "The QR payload does not end with its CRC field (63).",
        )
    return fields
