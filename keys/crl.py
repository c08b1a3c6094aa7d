"""Certificate revocation lists (RFC 5280 §5) for the provincial CAs.

:func:`build_crl` makes one CRL; :class:`CrlCache` keeps the current CRL of a CA and
regenerates it when a revocation changes the list or when it is older than the schedule
period; :class:`PublishedCrl` adds the copy on disk (``crl/{name}.crl``), read back after a
restart. :class:`~keys.ca.ProvincialPKI` owns one :class:`PublishedCrl` per CA.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from keys._crypto import write_file, x509_sign_kwargs
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
    """The current CRL of one CA, regenerated on change or when due (see :meth:`get`)."""

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

    @property
    def current(self) -> CachedCrl | None:
        return self._current

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

        Rebuilt when the revocation ``state`` changed or the CRL is older than ``period``
        (or dated after ``now``: a clock set back).
        """
        with self._lock:
            cur = self._current
            recent = cur is not None and dt.timedelta(0) <= now - cur.this_update < self.period
            if cur is not None and cur.state == state and recent:
                return cur, False
            number = max(last_number, cur.number if cur else 0) + 1
            fresh = build(number, now, now + self.period + self.grace)
            self._current = fresh
            return fresh, True


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


def cached_from_disk(der: bytes) -> CachedCrl | None:
    """A CRL written before, as the cache holds it; None if it cannot be used."""
    try:
        crl = x509.load_der_x509_crl(der)
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (ValueError, x509.ExtensionNotFound):
        return None
    state = revocation_state(r.serial_number for r in crl)
    nxt = crl.next_update_utc
    if nxt is None:
        return None
    return CachedCrl(der, number, crl.last_update_utc, nxt, state)


def revocation_state(serials: Iterable[int]) -> str:
    """The fingerprint of a revocation list that tells whether a CRL is still current."""
    return ",".join(sorted(f"{serial:x}" for serial in serials))


class PublishedCrl:
    """The CRL of one CA as served (/pki/crl/{name}.crl) and written to ``path``."""

    def __init__(self, path: Path, cache: CrlCache | None = None) -> None:
        self.path = path
        self.cache = cache or CrlCache()

    def der(
        self,
        *,
        revoked: Sequence[RevokedEntry],
        issuer: Callable[[], tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]],
        now: dt.datetime,
    ) -> bytes:
        """DER of the current CRL listing ``revoked``; rebuilt (and written) when the list
        changed or the CRL is due, with ``issuer()`` (called only then: it loads the CA key).
        Raises what ``issuer`` raises."""
        state = revocation_state(r.serial for r in revoked)
        if self.cache.current is None and self.path.exists():
            self.cache.prime(cached_from_disk(self.path.read_bytes()))

        def build(number: int, this: dt.datetime, nxt: dt.datetime) -> CachedCrl:
            cert, key = issuer()
            crl = build_crl(
                issuer_cert=cert,
                issuer_key=key,
                revoked=revoked,
                number=number,
                this_update=this,
                next_update=nxt,
            )
            return CachedCrl(crl_der(crl), number, this, nxt, state)

        cached, rebuilt = self.cache.get(now=now, state=state, build=build, last_number=0)
        if rebuilt:
            write_file(self.path, cached.der, mode=0o644)
        return cached.der
