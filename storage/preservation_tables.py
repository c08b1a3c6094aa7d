"""The tables of the preservation runs (issue 14): the stored versions of each copy after its
issue, where each copy stands (when its last time-stamp needs renewing), and the leases that
keep one run at a time. Models only; the schema is made by migration 0009."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.database import Base, BigIntKey, UTCDateTime


class CopyVersionRow(Base):
    """A version of a copy after its issue: the previous version followed by DSS data and an
    archive document time-stamp (``certify.preservation``). The issued copy is version 0 and
    stays in ``documents``."""

    __tablename__ = "copy_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "seq"),
        CheckConstraint("seq > 0", name="seq_positive"),
        Index("ix_copy_versions_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    seq: Mapped[int] = mapped_column(Integer)
    version_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(32))
    timestamp_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    tsa_not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    digest_algorithm: Mapped[str] = mapped_column(String(16))
    # The version's validation (JSON of certify.verdicts.Validation): the issued copy's
    # signatures and every archive time-stamp, so verifying it is a hash and a lookup.
    validation: Mapped[str | None] = mapped_column(Text)


class CopyArchiveState(Base):
    """Where one copy stands for preservation: its newest version (``seq``, 0 for the issued
    copy) and what its last time-stamp's life depends on. The policy (margin, weak hashes) is
    applied when due copies are looked up, so a changed setting applies to every copy. A copy
    without a row has not been looked at by a run yet."""

    __tablename__ = "copy_archive"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    # When the last time-stamp's TSA certificate ends: due once it is within the margin.
    tsa_not_after: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    # The hash over the document of that time-stamp: due at once when it is marked weak.
    digest_algorithm: Mapped[str] = mapped_column(String(16), index=True)


class Lease(Base):
    """A named lease in the database: one holder at a time until ``expires_at`` (a run on
    several replicas at once: the others see it held and do nothing)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
