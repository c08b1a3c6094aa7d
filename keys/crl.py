"""Certificate revocation lists (RFC 5280 §5) for the provincial CAs.

:func:`build_crl` makes one CRL; :class:`CrlCache` keeps the current CRL of each CA and
regenerates it when a revocation changes the list or when it is older than the schedule
period. :class:`~keys.ca.ProvincialPKI` owns one cache and persists the DER on disk.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from keys._crypto import x509_sign_kwargs
from keys.errors import InvalidRevocationReasonError

# RFC 5280 §5.3.1 CRLReason, by the names the RFC's ASN.1 uses. "removeFromCRL" only makes
# sense in delta CRLs and "certificateHold" needs an un-hold procedure we do not offer.
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "cACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
    "aACompromise": x509.ReasonFlags.aa_compromise,
}

# How often a CRL is re-issued even when nothing changed, and how long past that a relying
# party may keep using it (RFC 5280 §5.1.2.5 nextUpdate).
DEFAULT_PERIOD = dt.timedelta(hours=24)
DEFAULT_GRACE = dt.timedelta(hours=12)


def reason_flag(reason: str) -> x509.ReasonFlags:
    """Map an RFC 5280 reason name (``keyCompromise``, ...) to cryptography's flag.

    Raises InvalidRevocationReasonError for any other name.
    """
    try:
        return REASONS[reason]
    except KeyError:
        raise InvalidRevocationReasonError(
            f"Lý do thu hồi không hợp lệ: {reason!r}. / Invalid revocation reason {reason!r}; "
            f"use one of: {', '.join(REASONS)}."
        ) from None


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate as a CRL lists it."""

    serial: int
    revoked_at: dt.datetime
    reason: str


def build_crl(
    *,
    issuer_cert: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    revoked: Iterable[RevokedEntry],
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime,
) -> x509.CertificateRevocationList:
    """Build and sign a full CRL (RFC 5280 §5.1), with the AKI and CRL number it requires."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        # RFC 5280 §5.2.1 and §5.2.3: conforming CRLs MUST carry AKI and cRLNumber.
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in revoked:
        revoked_builder = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
        )
        # RFC 5280 §5.3.1: the reason code "unspecified" SHOULD be absent.
        if entry.reason != "unspecified":
            revoked_builder = revoked_builder.add_extension(
                x509.CRLReason(reason_flag(entry.reason)), critical=False
            )
        builder = builder.add_revoked_certificate(revoked_builder.build())
    return builder.sign(private_key=issuer_key, **x509_sign_kwargs(issuer_key))


@dataclass(frozen=True)
class CachedCrl:
    """A CRL as served: DER bytes and its times."""

    der: bytes
    number: int
    this_update: dt.datetime
    next_update: dt.datetime
    state: str  # a fingerprint of the revocation list it was built from

    @property
    def crl(self) -> x509.CertificateRevocationList:
        return x509.load_der_x509_crl(self.der)


class CrlCache:
    """The current CRL of one CA, regenerated on change or when due.

    ``source()`` returns the CA's certificate, a key loader, the revoked entries and the last
    CRL number used; ``store(cached)`` persists a newly built CRL (the PKI writes it to disk).
    """

    def __init__(
        self,
        *,
        period: dt.timedelta = DEFAULT_PERIOD,
        grace: dt.timedelta = DEFAULT_GRACE,
    ) -> None:
        self.period = period
        self.grace = grace
        self._lock = threading.Lock()
        self._current: CachedCrl | None = None

    def prime(self, cached: CachedCrl | None) -> None:
        """Seed the cache (e.g. with the CRL found on disk)."""
        with self._lock:
            self._current = cached

    def get(
        self,
        *,
        now: dt.datetime,
        state: str,
        build: Callable[[int, dt.datetime, dt.datetime], CachedCrl],
        last_number: int,
    ) -> tuple[CachedCrl, bool]:
        """The current CRL, and whether it was rebuilt just now.

        Rebuilt when the revocation ``state`` changed or the CRL is older than ``period``.
        """
        with self._lock:
            cur = self._current
            if cur is not None and cur.state == state and now - cur.this_update < self.period:
                return cur, False
            number = max(last_number, cur.number if cur else 0) + 1
            fresh = build(number, now, now + self.period + self.grace)
            self._current = fresh
            return fresh, True


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)
