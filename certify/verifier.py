"""Public verification: is this file, or the copy behind this code, one we issued, unchanged
and in force?

Numbered steps (DESIGN.md, "Verification verdicts"), each ending in a verdict, never an error:

1. **The same bytes as a copy we issued** (its SHA-256 is in the register, indexed): the
   validation made when it was issued answers, with the cancellation status read live. This
   is the common case (an upload of a genuine copy, or its QR code): a hash and a lookup.
2. **A copy we issued followed by more updates** (the SHA-256 of the file up to one of its
   ``%%EOF`` markers is in the register): ``genuine`` only when every later update is this
   service's own kind (DSS data, document time-stamps under our roots); anything else is
   ``modified``, whatever a validator's difference analysis would call it.
3. **Anything else** is validated in full and can at best be ``unknown``: a file signed under
   our roots that the register does not know is logged as an incident.

Full validations run through the ``check`` callable the service is built with (the API runs
them in worker processes under time and memory limits; the CLI in-process).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import BinaryIO, Generic, TypeVar

from certify.errors import CertifyError, NotFoundError, SigningError
from certify.ports import (
    VN_TZ,
    AuthorityRecord,
    Check,
    Clock,
    DocumentEntry,
    FileCheck,
    ObjectStore,
    OfficerRecord,
    VerificationRegister,
)
from certify.preservation_ports import CopyVersion
from certify.verdicts import PublicEntry, Reason, Validation, Verification

log = logging.getLogger(__name__)
incidents = logging.getLogger("certify.incidents")

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
# At most this many %%EOF markers are tried as the end of a copy we issued: ours has a few.
MAX_PREFIXES = 256
NAMES_TTL_SECONDS = 60.0
T = TypeVar("T")
_EOF = re.compile(rb"%%EOF(?:\r\n|\r|\n)?")
# A validation outcome, as the verdict of a file the register does not contradict.
_OUTCOME_VERDICTS = {
    "valid": "genuine",
    "modified": "modified",
    "invalid": "invalid",
    "untrusted": "untrusted",
    "unsigned": "unknown",
    "unreadable": "unreadable",
}


# (authority code, certifier username) -> {certificate SHA-256: "certifier" | "seal"}: the
# certificates that may sign a copy of that register entry, and in which role.
SignerRoles = Callable[[str, str], dict[str, str]]


class Verifier:
    """Answers public verifications. Build once per process and share; it is thread-safe."""

    def __init__(
        self,
        *,
        register: VerificationRegister,
        store: ObjectStore,
        check: Check,
        signer_roles: SignerRoles,
        clock: Clock,
    ) -> None:
        self._register = register
        self._store = store
        self._check = check
        self._roles = signer_roles
        self._clock = clock
        # Authorities and officers change rarely; an answer may show a name a minute old.
        self._authorities: _Ttl[AuthorityRecord] = _Ttl(register.get_authority)
        self._officers: _Ttl[OfficerRecord | None] = _Ttl(self._officer)

    # --- at issue --------------------------------------------------------------------------

    def validate_issued(
        self, pdf: BinaryIO, *, authority_code: str, certifier_username: str
    ) -> str:
        """Validate a freshly signed copy in full and return the result to keep with its
        register entry (JSON). A copy that would not verify as genuine is not issued.

        ``pdf`` is the signed copy's file (a seekable binary stream, read from its start):
        a check that reads files (:class:`certify.ports.FileCheck`, the in-process check at
        issue) reads it in chunks; any other check is given its bytes.

        Raises:
            SigningError: the copy does not validate (code ``copy_not_valid``).
        """
        # Our own bytes, made by certify.signing: the difference analysis (which proves only
        # what the signing code does by construction, tests/certify/test_issuance.py) is
        # skipped; every signature, time-stamp, chain and revocation status is checked.
        if isinstance(self._check, FileCheck):
            checked = self._check.check_file(pdf, analyse_changes=False)
        else:
            pdf.seek(0)
            checked = self._check(pdf.read(), analyse_changes=False)
        validation = checked.with_roles(self._roles(authority_code, certifier_username))
        problems = _problems(validation)
        if problems:
            raise SigningError(
                "Bản sao vừa ký không kiểm tra được là hợp lệ. / "
                "The signed copy does not validate: " + ", ".join(problems),
                code="copy_not_valid",
            )
        return json.dumps(validation.to_json(), ensure_ascii=False)

    # --- public ----------------------------------------------------------------------------

    def by_token(self, token: str) -> Verification:
        """The verdict on the copy whose verification code (printed as a QR code) is
        ``token``. Raises StorageUnavailableError / DatabaseUnavailableError only."""
        token = token.strip()
        entry = (
            self._register.find_document_by_token(token) if TOKEN_PATTERN.fullmatch(token) else None
        )
        if entry is None:
            return self._answer("unknown", ["no_such_code"], method="token", sha256=None)
        # The newest stored version answers: an old printout's code shows the copy as it is
        # kept today, with every archive time-stamp added since (certify.preservation).
        version = self._register.latest_copy_version(entry.id)
        validation = self._version_validation(entry, version)
        return self._entry_answer(
            entry, validation, method="token", token=token, stored_version=_seq(version)
        )

    def by_upload(self, data: bytes) -> Verification:
        """The verdict on an uploaded file. Raises StorageUnavailableError /
        DatabaseUnavailableError only: whatever the file holds is a verdict."""
        digest = hashlib.sha256(data).hexdigest()
        exact = self._register.find_documents_by_sha256([digest])
        if exact:
            entry = exact[0]
            validation = self._stored_validation(entry, data=data)
            return self._entry_answer(entry, validation, method="upload", stored_version=0)
        for entry, version in self._register.find_copy_versions_by_sha256([digest]):
            validation = self._version_validation(entry, version, data=data)
            return self._entry_answer(
                entry, validation, method="upload", stored_version=version.seq
            )

        prefixes = _prefix_digests(data)
        # The stored versions the file may begin with: issued copies and renewed versions.
        stored_versions: dict[str, tuple[DocumentEntry, CopyVersion | None]] = {
            e.copy_sha256: (e, None) for e in self._register.find_documents_by_sha256(prefixes)
        }
        for e, v in self._register.find_copy_versions_by_sha256(prefixes):
            stored_versions[v.sha256] = (e, v)
        matches = [(e, v) for e, v in stored_versions.values() if 0 < _size(e, v) < len(data)]
        if matches:
            entry, base = max(matches, key=lambda m: _size(*m))
            stored = self._version_validation(entry, base)
            appended = self._check(data, base_length=_size(entry, base))
            merged = dataclasses.replace(
                stored,
                signatures=stored.signatures + appended.signatures,
                sha256=digest,
                size=len(data),
                own_updates_only=bool(appended.own_updates_only),
            )
            if not appended.own_updates_only:
                merged = dataclasses.replace(merged, outcome="modified")
                return self._answer(
                    "modified",
                    ["appended_changes"],
                    method="upload",
                    sha256=digest,
                    entry=self._public_entry(entry),
                    validation=merged,
                )
            return self._entry_answer(
                entry, merged, method="upload", appended=True, stored_version=_seq(base)
            )

        validation = self._check(data, analyse_changes=False)
        verdict = _OUTCOME_VERDICTS[validation.outcome]
        reasons = [r.code for r in validation.reasons]
        if verdict == "genuine":
            # Intact and trusted under our roots, yet no copy in the register is this file.
            verdict, reasons = "unknown", ["signed_by_us_not_registered"]
            incidents.warning(
                "incident: a file signed under our roots is not in the register (sha256 %s)",
                digest,
            )
        elif verdict == "unknown":
            reasons.append("not_in_register")
        return self._answer(verdict, reasons, method="upload", sha256=digest, validation=validation)

    # --- helpers ---------------------------------------------------------------------------

    def _stored_validation(self, entry: DocumentEntry, *, data: bytes | None = None) -> Validation:
        """The validation kept with the entry; made (and kept) now if it has none yet."""
        kept = _kept(entry.validation_json, entry.id)
        if kept is not None:
            return kept
        validation, data = self._validate_stored(entry, entry.copy_version_id, data)
        if hashlib.sha256(data).hexdigest() == entry.copy_sha256:
            try:
                self._register.set_validation(
                    entry.id, json.dumps(validation.to_json(), ensure_ascii=False)
                )
            except CertifyError as exc:
                log.warning("could not keep the validation of %s (%s)", entry.id, exc.code)
        return validation

    def _version_validation(
        self, entry: DocumentEntry, version: CopyVersion | None, *, data: bytes | None = None
    ) -> Validation:
        """The validation kept with a stored version (the issued copy's for version 0).

        A renewed version without a readable kept validation is validated again (in full:
        the register holds no validation to start from)."""
        if version is None:
            return self._stored_validation(entry, data=data)
        kept = _kept(version.validation_json, f"{entry.id} v{version.seq}")
        if kept is not None:
            return kept
        return self._validate_stored(entry, version.version_id, data)[0]

    def _validate_stored(
        self, entry: DocumentEntry, version_id: str | None, data: bytes | None
    ) -> tuple[Validation, bytes]:
        """Validate ``data``, or the stored version ``version_id`` of the entry's copy, with
        the roles of the entry's signers; and the bytes validated."""
        if data is None:
            with self._store.open(
                self._store.copies_bucket, entry.copy_key, version_id=version_id
            ) as fh:
                data = fh.read()
        validation = self._check(data, analyse_changes=False).with_roles(
            self._roles(entry.authority_code, entry.certifier_username)
        )
        return validation, data

    def _entry_answer(
        self,
        entry: DocumentEntry,
        validation: Validation,
        *,
        method: str,
        token: str | None = None,
        appended: bool = False,
        stored_version: int | None = None,
    ) -> Verification:
        public = self._public_entry(entry)
        problems = _problems(validation)
        if problems:
            verdict = _OUTCOME_VERDICTS.get(validation.outcome, "invalid")
            if verdict == "genuine":
                verdict = "invalid"
            return self._answer(
                verdict,
                problems,
                method=method,
                sha256=validation.sha256,
                entry=public,
                validation=validation,
                token=token,
            )
        first = "own_updates_only" if appended else "matches_register"
        if entry.status == "cancelled":
            verdict, reasons = "cancelled", [first, "signatures_valid", "cancelled"]
        else:
            verdict, reasons = "genuine", [first, "signatures_valid", "in_force"]
        return self._answer(
            verdict,
            reasons,
            method=method,
            sha256=validation.sha256,
            entry=public,
            validation=validation,
            token=token,
            stored_version=stored_version,
        )

    def _officer(self, username: str) -> OfficerRecord | None:
        try:
            return self._register.get_officer(username)
        except NotFoundError:
            return None

    def _public_entry(self, entry: DocumentEntry) -> PublicEntry:
        authority = self._authorities.get(entry.authority_code)
        officer = self._officers.get(entry.certifier_username)
        return PublicEntry(
            authority_code=authority.code,
            authority_name=authority.name,
            province_name=authority.province_name,
            document_name=entry.document_name,
            number=entry.number,
            book=entry.book,
            register_type=entry.register_type,
            issued_on=entry.issued_at.astimezone(VN_TZ).date(),
            pages=entry.pages,
            copies=entry.copies,
            copy_sha256=entry.copy_sha256,
            status=entry.status,
            cancelled_on=(
                entry.cancelled_at.astimezone(VN_TZ).date() if entry.cancelled_at else None
            ),
            cancelled_reason=entry.cancelled_reason,
            certifier_name=officer.full_name if officer else None,
            certifier_title=officer.title if officer else None,
        )

    def _answer(
        self,
        verdict: str,
        reasons: list[str],
        *,
        method: str,
        sha256: str | None,
        entry: PublicEntry | None = None,
        validation: Validation | None = None,
        token: str | None = None,
        stored_version: int | None = None,
    ) -> Verification:
        if validation is not None and not reasons:
            reasons = [r.code for r in validation.reasons]
        return Verification(
            stored_version=stored_version,
            verdict=verdict,
            reasons=tuple(Reason.of(code) for code in dict.fromkeys(reasons)),
            checked_at=self._clock.now(),
            method=method,
            sha256=sha256,
            entry=entry,
            validation=validation,
            token=token,
        )


class _Ttl(Generic[T]):
    """Values loaded by key and kept for ``NAMES_TTL_SECONDS`` (thread-safe enough: a race
    loads twice)."""

    def __init__(self, load: Callable[[str], T]) -> None:
        self._load = load
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T:
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < NAMES_TTL_SECONDS:
            return hit[1]
        value = self._load(key)
        if len(self._values) > 10_000:
            self._values.clear()
        self._values[key] = (now, value)
        return value


def _problems(validation: Validation) -> list[str]:
    """Why a copy's validation does not make it genuine (empty when it does): it must be
    valid, signed exactly by the certifier and the seal the register recorded (NĐ 45/2020
    art. 10 cl. 3: two signatures), and reach PAdES B-LTA."""
    if validation.outcome != "valid":
        return [r.code for r in validation.reasons] or [validation.outcome]
    roles = sorted(s.role for s in validation.regular)
    if roles != ["certifier", "seal"]:
        return ["wrong_roles"]
    if validation.pades_level != "PAdES-BASELINE-LTA":
        return ["no_timestamp"]
    return []


def _kept(validation_json: str | None, what: str) -> Validation | None:
    """A validation kept in the register as JSON, or None (none kept, or unreadable)."""
    if not validation_json:
        return None
    try:
        return Validation.from_json(json.loads(validation_json))
    except (ValueError, KeyError, TypeError):
        log.warning("kept validation of %s unreadable; validating again", what)
        return None


def _seq(version: CopyVersion | None) -> int:
    return 0 if version is None else version.seq


def _size(entry: DocumentEntry, version: CopyVersion | None) -> int:
    return entry.copy_size if version is None else version.size


def _prefix_digests(data: bytes) -> list[str]:
    """SHA-256 of ``data`` up to each of its first ``MAX_PREFIXES`` end-of-file markers, in
    one pass (the copy we issued ends at one of them)."""
    digests = []
    hasher = hashlib.sha256()
    view = memoryview(data)
    done = 0
    for i, match in enumerate(_EOF.finditer(data)):
        if i >= MAX_PREFIXES:
            break
        hasher.update(view[done : match.end()])
        done = match.end()
        digests.append(hasher.copy().hexdigest())
    return digests
