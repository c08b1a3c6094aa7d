"""The VietQR payload (EMV QRCPS-MPM v1.1 with NAPAS's template), checked against a payload
built by hand, field by field, and against the CRC's published check value."""

from __future__ import annotations

import pytest

from certify.errors import InvalidInputError
from certify.vietqr import crc16, parse_fields, parse_tlv, vietqr_payload

# BIN 970415 (VietinBank), account 113366668888, 6 000 đồng, reference HS4F2A9C01B7.
# Field by field (ID, LEN, VALUE; lengths counted by hand):
#   00 02 "01"                                   -> 000201
#   01 02 "12"                                   -> 010212
#   38: 00 10 "A000000727"          (4+10 = 14)  -> 0010A000000727
#       01: 00 06 "970415"          (4+6  = 10)  -> 0006970415
#           01 12 "113366668888"    (4+12 = 16)  -> 0112113366668888
#           value 10+16 = 26        (4+26 = 30)  -> 0126 0006970415 0112113366668888
#       02 08 "QRIBFTTA"            (4+8  = 12)  -> 0208QRIBFTTA
#       value 14+30+12 = 56                      -> 3856 ...
#   53 03 "704"                                  -> 5303704
#   54 04 "6000"                                 -> 54046000
#   58 02 "VN"                                   -> 5802VN
#   62: 08 12 "HS4F2A9C01B7"        (4+12 = 16)  -> 6216 0812HS4F2A9C01B7
#   63 04 CRC of everything up to and including "6304": C290 (computed once with a
#   bit-by-bit CRC-16/CCITT-FALSE, the one below).
EXPECTED = (
    "000201"
    "010212"
    "3856"
    "0010A000000727"
    "0126"
    "0006970415"
    "0112113366668888"
    "0208QRIBFTTA"
    "5303704"
    "54046000"
    "5802VN"
    "6216"
    "0812HS4F2A9C01B7"
    "6304"
    "C290"
)


def _bitwise_crc(data: bytes) -> int:
    """CRC-16/CCITT-FALSE written out bit by bit (poly 0x1021, init 0xFFFF), independent of
    binascii, which the module uses."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _payload(**overrides: object) -> str:
    args: dict[str, object] = {
        "bank_bin": "970415",
        "account_number": "113366668888",
        "amount": 6000,
        "reference": "HS4F2A9C01B7",
    }
    args.update(overrides)
    return vietqr_payload(**args)  # type: ignore[arg-type]


def test_payload_of_a_known_request_is_the_hand_built_one() -> None:
    assert _payload() == EXPECTED


def test_hand_built_crc_is_the_bitwise_crc() -> None:
    assert _bitwise_crc(EXPECTED[:-4].encode("ascii")) == 0xC290


def test_crc_check_value() -> None:
    # The catalogue's check value of CRC-16/CCITT-FALSE over "123456789".
    assert crc16("123456789") == "29B1"
    assert _bitwise_crc(b"123456789") == 0x29B1


def test_parse_reads_the_fields_back() -> None:
    fields = parse_tlv(EXPECTED)
    assert list(fields) == ["00", "01", "38", "53", "54", "58", "62", "63"]
    assert fields["54"] == "6000"
    assert fields["63"] == "C290"
    merchant = parse_fields(fields["38"])
    assert merchant == {
        "00": "A000000727",
        "01": "00069704150112113366668888",
        "02": "QRIBFTTA",
    }
    assert parse_fields(merchant["01"]) == {"00": "970415", "01": "113366668888"}
    assert parse_fields(fields["62"]) == {"08": "HS4F2A9C01B7"}


def test_largest_amount_and_longest_values_fit() -> None:
    payload = _payload(amount=99_999_999_999, account_number="9" * 19, reference="A B" * 8 + "C")
    fields = parse_tlv(payload)
    assert fields["54"] == "99999999999"
    assert parse_fields(fields["62"])["08"] == "A BA BA BA BA BA BA BA BC"


@pytest.mark.parametrize("position", [0, 20, 60, len(EXPECTED) - 6, len(EXPECTED) - 1])
def test_a_changed_character_fails_the_crc(position: int) -> None:
    original = EXPECTED[position]
    changed = "7" if original != "7" else "8"
    tampered = EXPECTED[:position] + changed + EXPECTED[position + 1 :]
    with pytest.raises(InvalidInputError) as info:
        parse_tlv(tampered)
    # A change inside "6304" breaks the CRC field itself; anywhere else the CRC.
    assert info.value.code in {"vietqr_crc_mismatch", "vietqr_invalid"}
    if position not in range(len(EXPECTED) - 8, len(EXPECTED) - 4):
        assert info.value.code == "vietqr_crc_mismatch"


def test_smallest_payload_is_read() -> None:
    payload = "0002016304" + crc16("0002016304")
    assert parse_tlv(payload) == {"00": "01", "63": payload[-4:]}


@pytest.mark.parametrize(
    "payload",
    [
        "",
        EXPECTED[:-8],  # no CRC field
        "99" + crc16("99"),  # too short to carry a CRC field
        "000X01" + "6304" + crc16("000X016304"),  # length not digits
        "00090101" + "6304" + crc16("000901016304"),  # field 00 runs into the CRC
        "000201000201" + "6304" + crc16("0002010002016304"),  # field 00 twice
    ],
)
def test_malformed_payloads_are_refused(payload: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_tlv(payload)
    assert info.value.code == "vietqr_invalid"


@pytest.mark.parametrize(
    "overrides",
    [
        {"bank_bin": "97041"},
        {"bank_bin": "9704150"},
        {"bank_bin": "97041A"},
        {"bank_bin": "٩٧٠٤١٥"},  # Arabic-Indic digits: isdigit() would take them
        {"account_number": ""},
        {"account_number": "1" * 20},
        {"account_number": "1133-6666"},
        {"amount": 0},
        {"amount": -6000},
        {"amount": 100_000_000_000},
        {"amount": 6000.0},
        {"amount": True},
        {"reference": ""},
        {"reference": "X" * 26},
        {"reference": "Lệ phí"},  # accents do not survive every bank's app
        {"reference": "HS-4F2A"},
    ],
)
def test_invalid_inputs_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError) as info:
        _payload(**overrides)
    assert info.value.code == "vietqr_invalid"
    assert " / " in info.value.message  # Vietnamese / English
