"""The register and the ``copies`` bucket witness each other (NĐ 23/2015 art. 20: no number
twice, none lost): every entry must have its object, with the version and SHA-256 the entry
recorded, every object its entry, and the audit chain must be unbroken. A copy's newest
object version may be an archive renewal the register recorded (``certify.preservation``).

``check`` reads only; it reports what differs and changes nothing, so that a person decides
(a lost register entry is restored from a backup, not invented).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from certify.errors import ObjectNotFoundError
from certify.ports import AuditedRegister, ObjectStore

# kind -> (Vietnamese, English) of what a finding means.
FINDINGS = {
    "missing_object": ("Sổ có số này nhưng kho không có bản sao.", "Entry without its copy."),
    "digest_mismatch": (
        "Bản sao trong kho khác mã băm ghi trong sổ.",
        "The stored copy's SHA-256 differs from the register's.",
    ),
    "overwritten": (
        "Khoá của bản sao đã bị ghi thêm phiên bản khác.",
        "Another version was written over the copy's key.",
    ),
    "orphan_object": (
        "Kho có bản sao không thuộc số nào trong sổ.",
        "A stored copy belongs to no register entry.",
    ),
    "awaiting_copy": (
        "Bản sao chưa được chuyển vào kho (chạy certify reconcile).",
        "The copy is not yet in the copies bucket (run certify reconcile).",
    ),
    "audit_chain_broken": (
        "Chuỗi nhật ký kiểm toán bị đứt.",
        "The audit chain is broken.",
    ),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str  # the object key, or the audit event id
    detail: str = ""

    @property
    def message(self) -> str:
        vi, en = FINDINGS[self.kind]
        return f"{vi} / {en}"


@dataclass(frozen=True)
class ConsistencyReport:
    entries: int
    objects: int
    findings: tuple[Finding, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Nothing but copies still on their way (``awaiting_copy``) was found."""
        return all(f.kind == "awaiting_copy" for f in self.findings)


def check(register: AuditedRegister, store: ObjectStore) -> ConsistencyReport:
    """Compare every register entry with its object in ``copies``, and every object there
    with its entry; check the audit chain. Raises StorageUnavailableError,
    DatabaseUnavailableError."""
    findings: list[Finding] = []
    bucket = store.copies_bucket
    known: set[str] = set()
    entries = 0
    for entry in register.iter_documents():
        entries += 1
        known.add(entry.copy_key)
        if entry.copy_version_id is None:
            findings.append(Finding("awaiting_copy", entry.copy_key))
            continue
        try:
            latest = store.stat(bucket, entry.copy_key)
            recorded = (
                latest
                if latest.version_id == entry.copy_version_id
                else store.stat(bucket, entry.copy_key, version_id=entry.copy_version_id)
            )
        except ObjectNotFoundError:
            findings.append(Finding("missing_object", entry.copy_key))
            continue
        if recorded.sha256 != entry.copy_sha256 or recorded.size != entry.copy_size:
            findings.append(Finding("digest_mismatch", entry.copy_key, recorded.sha256))
        if latest.version_id != entry.copy_version_id:
            # A newer version is ours only if the register recorded it: an archive renewal
            # (certify.preservation) with the SHA-256 the register holds.
            renewed = register.latest_copy_version(entry.id)
            if renewed is None or (renewed.version_id, renewed.sha256) != (
                latest.version_id,
                latest.sha256,
            ):
                findings.append(Finding("overwritten", entry.copy_key, latest.sha256))
    objects = 0
    for key, _modified in store.list_objects(bucket):
        objects += 1
        if key not in known:
            findings.append(Finding("orphan_object", key))
    broken = register.first_broken_audit_event()
    if broken is not None:
        findings.append(Finding("audit_chain_broken", str(broken)))
    return ConsistencyReport(entries=entries, objects=objects, findings=tuple(findings))
