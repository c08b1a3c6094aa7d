"""The verifier's steps with fakes for the register and the check (no PDF parsing here:
``tests/api/test_verify*.py`` run the real thing)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
from collections.abc import Sequence
from typing import BinaryIO

import pytest

from certify.errors import NotFoundError, SigningError
from certify.ports import AuthorityRecord, DocumentEntry, OfficerRecord
from certify.preservation_ports import CopyVersion
from certify.verdicts import Reason, SignatureCheck, Validation
from certify.verifier import Verifier
from tests.certify.conftest import FakeObjectStore
from tests.samples import signature_check

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
COPY = b"%PDF-1.7\n...signed copy...\n%%EOF\n"
TOKEN = "T" * 32


class Clock:
    def now(self) -> dt.datetime:
        return NOW


def signature(role: str, kind: str = "signature") -> SignatureCheck:
    return signature_check(
        field_name=role,
        kind=kind,
        role=role,
        signer=role,
        certificate_serial="1",
        certificate_sha256=hashlib.sha256(role.encode()).hexdigest(),
        signing_time=NOW,
        coverage="ENTIRE_FILE",
        modification_level=None,
    )


def validation(data: bytes, outcome: str = "valid", *roles: str) -> Validation:
    sigs = (
        *tuple(signature(r) for r in roles or ("other", "other")),
        signature("timestamp", "timestamp"),
    )
    return Validation(
        outcome=outcome,
        reasons=() if outcome == "valid" else (Reason.of("content_changed"),),
        signatures=sigs,
        pades_level="PAdES-BASELINE-LTA" if outcome == "valid" else None,
        validated_at=NOW,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


class FakeRegister:
    def __init__(self) -> None:
        self.entries: list[DocumentEntry] = []
        self.kept: dict[str, str] = {}

    def find_document_by_token(self, token: str) -> DocumentEntry | None:
        return next((e for e in self.entries if e.verification_token == token), None)

    def find_documents_by_sha256(self, hashes: Sequence[str]) -> list[DocumentEntry]:
        return [e for e in self.entries if e.copy_sha256 in hashes]

    def get_authority(self, code: str) -> AuthorityRecord:
        return AuthorityRecord(code, "UBND phường Tân Phú", "dn", "Đồng Nai")

    def get_officer(self, username: str) -> OfficerRecord:
        raise NotFoundError()

    def set_validation(self, document_id: str, validation_json: str) -> None:
        self.kept[document_id] = validation_json

    def latest_copy_version(self, document_id: str) -> CopyVersion | None:
        return None  # these copies were never renewed (tests/certify/test_preservation.py)

    def find_copy_versions_by_sha256(
        self, hashes: Sequence[str]
    ) -> list[tuple[DocumentEntry, CopyVersion]]:
        return []


class FakeCheck:
    def __init__(self, answer: Validation) -> None:
        self.answer = answer
        self.calls: list[tuple[int, int | None, bool]] = []

    def __call__(
        self, data: bytes, *, base_length: int | None = None, analyse_changes: bool = True
    ) -> Validation:
        self.calls.append((len(data), base_length, analyse_changes))
        return dataclasses.replace(self.answer, sha256=hashlib.sha256(data).hexdigest())


def entry(**changes: object) -> DocumentEntry:
    values: dict[str, object] = {
        "id": "doc-1",
        "authority_code": "dn-tanphu",
        "request_code": "YC-1",
        "register_type": "SCT/BS",
        "year": 2026,
        "number": 12,
        "book": "01/2026",
        "document_name": "Giấy khai sinh",
        "pages": 1,
        "copies": 2,
        "fee": 4000,
        "page_hashes": (),
        "copy_key": "dn-tanphu/2026/12.pdf",
        "copy_sha256": hashlib.sha256(COPY).hexdigest(),
        "copy_size": len(COPY),
        "copy_version_id": "v1",
        "verification_token": TOKEN,
        "certifier_username": "hong.nt",
        "issued_at": NOW,
    }
    values.update(changes)
    return DocumentEntry(**values)  # type: ignore[arg-type]


def verifier(register: FakeRegister, check: FakeCheck) -> Verifier:
    roles = {
        hashlib.sha256(b"other").hexdigest(): "certifier",
    }
    return Verifier(
        register=register,
        store=FakeObjectStore(),  # type: ignore[arg-type]
        check=check,
        signer_roles=lambda authority, username: roles,
        clock=Clock(),
    )


def stored(data: bytes = COPY, *roles: str) -> str:
    return json.dumps(validation(data, "valid", *(roles or ("certifier", "seal"))).to_json())


def test_same_bytes_are_answered_from_the_register_without_a_check() -> None:
    register, check = FakeRegister(), FakeCheck(validation(COPY))
    register.entries.append(entry(validation_json=stored()))
    answer = verifier(register, check).by_upload(COPY)
    assert answer.verdict == "genuine"
    assert [r.code for r in answer.reasons] == ["matches_register", "signatures_valid", "in_force"]
    assert check.calls == []
    assert answer.entry is not None and answer.entry.reference == "12 / 01/2026-SCT/BS"


def test_cancelled_is_read_live() -> None:
    register, check = FakeRegister(), FakeCheck(validation(COPY))
    register.entries.append(
        entry(
            validation_json=stored(),
            status="cancelled",
            cancelled_reason="Sai thẩm quyền",
            cancelled_at=NOW + dt.timedelta(days=2),
        )
    )
    answer = verifier(register, check).by_token(TOKEN)
    assert answer.verdict == "cancelled"
    assert answer.entry is not None
    assert answer.entry.cancelled_on == dt.date(2026, 12, 3)
    assert answer.entry.cancelled_reason == "Sai thẩm quyền"


def test_roles_other_than_certifier_and_seal_are_not_genuine() -> None:
    register, check = FakeRegister(), FakeCheck(validation(COPY))
    register.entries.append(entry(validation_json=stored(COPY, "certifier", "other")))
    answer = verifier(register, check).by_token(TOKEN)
    assert answer.verdict == "invalid"
    assert [r.code for r in answer.reasons] == ["wrong_roles"]


def test_a_code_that_cannot_be_a_token_is_unknown_without_a_lookup() -> None:
    register = FakeRegister()
    for code in ("", "short", "../../etc/passwd" + "x" * 20, "x" * 500):
        answer = verifier(register, FakeCheck(validation(COPY))).by_token(code)
        assert answer.verdict == "unknown"
        assert [r.code for r in answer.reasons] == ["no_such_code"]


def test_missing_stored_validation_is_made_and_kept() -> None:
    register, check = FakeRegister(), FakeCheck(validation(COPY, "valid", "other", "seal"))
    register.entries.append(entry())
    answer = verifier(register, check).by_upload(COPY)
    assert check.calls == [(len(COPY), None, False)]
    assert "doc-1" in register.kept
    # roles come from the signer_roles callable: "other" became the certifier
    assert answer.verdict == "genuine"


def test_appended_updates_are_checked_from_the_copy_onwards() -> None:
    register = FakeRegister()
    register.entries.append(entry(validation_json=stored()))
    longer = COPY + b"more\n%%EOF\n"
    timestamps = (signature("timestamp", "timestamp"),)
    ours = FakeCheck(
        dataclasses.replace(validation(longer), own_updates_only=True, signatures=timestamps)
    )
    answer = verifier(register, ours).by_upload(longer)
    assert ours.calls == [(len(longer), len(COPY), True)]
    assert answer.verdict == "genuine"
    assert answer.reasons[0].code == "own_updates_only"
    assert answer.validation is not None
    assert [s.kind for s in answer.validation.signatures].count("timestamp") == 2

    theirs = FakeCheck(dataclasses.replace(validation(longer), own_updates_only=False))
    refused = verifier(register, theirs).by_upload(longer)
    assert refused.verdict == "modified"
    assert refused.entry is not None and refused.entry.number == 12


def test_signed_under_our_roots_but_not_registered_is_a_loud_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = b"%PDF-1.7 some other document %%EOF\n"
    check = FakeCheck(validation(data))
    with caplog.at_level(logging.WARNING, logger="certify.incidents"):
        answer = verifier(FakeRegister(), check).by_upload(data)
    assert answer.verdict == "unknown"
    assert [r.code for r in answer.reasons] == ["signed_by_us_not_registered"]
    assert check.calls == [(len(data), None, False)]
    incident = [r for r in caplog.records if r.name == "certify.incidents"]
    assert len(incident) == 1
    assert hashlib.sha256(data).hexdigest() in incident[0].getMessage()


def test_validate_issued_refuses_a_copy_that_would_not_verify() -> None:
    register = FakeRegister()
    good = verifier(register, FakeCheck(validation(COPY, "valid", "other", "seal")))
    kept = json.loads(
        good.validate_issued(io.BytesIO(COPY), authority_code="a", certifier_username="u")
    )
    assert sorted(s["role"] for s in kept["signatures"]) == ["certifier", "seal", "timestamp"]

    for bad in (validation(COPY, "modified"), validation(COPY, "valid", "other", "other")):
        with pytest.raises(SigningError) as raised:
            verifier(register, FakeCheck(bad)).validate_issued(
                io.BytesIO(COPY), authority_code="a", certifier_username="u"
            )
        assert raised.value.code == "copy_not_valid"


class FakeFileCheck(FakeCheck):
    """A check that reads files (certify.ports.FileCheck), as the one at issue does."""

    def __init__(self, answer: Validation) -> None:
        super().__init__(answer)
        self.files: list[int] = []

    def check_file(
        self, stream: BinaryIO, *, analyse_changes: bool = True, base_length: int | None = None
    ) -> Validation:
        stream.seek(0, io.SEEK_END)
        self.files.append(stream.tell())
        return self.answer


def test_validate_issued_hands_a_file_to_a_check_that_reads_files() -> None:
    # A large copy signed on disk is read in chunks by the check, never as bytes here.
    check = FakeFileCheck(validation(COPY, "valid", "other", "seal"))
    verifier(FakeRegister(), check).validate_issued(
        io.BytesIO(COPY), authority_code="a", certifier_username="u"
    )
    assert check.files == [len(COPY)]
    assert check.calls == []
