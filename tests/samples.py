"""Hand-made verification data for tests that render or judge it without a PDF."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from certify.verdicts import SignatureCheck

SIGNED_AT = dt.datetime(2026, 3, 5, 2, 15, 30, tzinfo=dt.UTC)

_BASE = SignatureCheck(
    field_name="officer",
    kind="signature",
    role="certifier",
    signer="Nguyễn Thị Hồng",
    organisation="UBND phường Tân Phú",
    certificate_serial="0a1b2c",
    certificate_sha256="cd" * 32,
    issuer="CA cấp 2 tỉnh Đồng Nai",
    intact=True,
    valid=True,
    trusted=True,
    certificate_status="good",
    indication="TOTAL_PASSED",
    sub_indication=None,
    signing_time=SIGNED_AT,
    claimed_time=None,
    tsa="TSA tỉnh Đồng Nai",
    coverage="ENTIRE_REVISION",
    modification_level="LTA_UPDATES",
    digest_algorithm="sha256",
    signature_algorithm="sha256_rsa",
    signature_value_b64="c2ln",
    signed_attrs_sha256_b64="YXR0cnM=",
    document_digest_b64="ZG9j",
    byte_range=(0, 100, 200, 300),
    subfilter="/ETSI.CAdES.detached",
)


def signature_check(**changes: Any) -> SignatureCheck:
    """A plausible, passing signature check, with ``changes``."""
    return dataclasses.replace(_BASE, **changes)
