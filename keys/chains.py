"""Certificate chains and the checks a signing certificate must pass.

:func:`build_chain` finds the path from a certificate to a self-signed root with
pyhanko-certvalidator's path builder (RFC 5280 §6.1 path construction: names and key
identifiers), keeping the first path whose every signature verifies.
:func:`check_signing_certificate` checks validity and key usage, the usage part with
pyHanko's :class:`~pyhanko.sign.validation.settings.KeyUsageConstraints`.
:func:`check_credential` runs the numbered steps of an import (``keys.imports``).

Used by :class:`keys.ca.ProvincialPKI` (the chain of a certificate on file) and by
``keys.imports``; this module imports neither, so the two no longer import each other.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier
from pyhanko_certvalidator.errors import InvalidCertificateError, PathBuildingError
from pyhanko_certvalidator.registry import (
    CertificateRegistry,
    PathBuilder,
    SimpleTrustManager,
    TrustManager,
)

from keys._crypto import is_self_signed, issued_by, same_public_key, to_asn1_cert, utcnow
from keys.errors import (
    CertificateExpiredError,
    IncompleteChainError,
    KeyMismatchError,
    WrongKeyUsageError,
)

if TYPE_CHECKING:
    from pyhanko.sign.validation.settings import KeyUsageConstraints

MAX_CHAIN_LENGTH = 8

# Extended key usages compatible with document signatures, when an EKU is present at all.
SIGNING_EKUS = (
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"),  # id-kp-documentSigning (RFC 9336)
    ObjectIdentifier("1.2.840.113583.1.1.5"),  # Adobe Authentic Documents Trust
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),  # Microsoft document signing
)


class _Registry(CertificateRegistry):
    """A registry that remembers the certificates whose issuer it could not find, so that
    an incomplete chain is reported by the name of the missing CA."""

    def __init__(self, *, cert_fetcher: Any = None) -> None:
        super().__init__(cert_fetcher=cert_fetcher)
        self.dead_ends: list[asn1_x509.Certificate] = []

    def find_potential_issuers(
        self, cert: asn1_x509.Certificate, trust_manager: TrustManager
    ) -> Iterator[Any]:
        found = list(super().find_potential_issuers(cert, trust_manager))
        if not found:
            self.dead_ends.append(cert)
        return iter(found)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def build_chain(
    cert: x509.Certificate,
    candidates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate] = (),
) -> list[x509.Certificate]:
    """The path ``[cert, issuer, ..., self-signed root]`` built from ``candidates`` and ``roots``.

    Every self-signed certificate among them may end the path. Signatures are checked at
    each step. Raises IncompleteChainError if no self-signed root is reached. Synchronous
    (the path builder runs its own event loop): not to be called from a running one.
    """
    if is_self_signed(cert):
        return [cert]
    pool = [*roots, *candidates]
    anchors = [c for c in pool if is_self_signed(c)]
    by_der = {_der(c): c for c in (cert, *pool)}
    registry = _Registry.build(to_asn1_cert(c) for c in pool if c not in anchors)
    trust = SimpleTrustManager.build(to_asn1_cert(c) for c in anchors)
    try:
        paths = PathBuilder(trust, registry).build_paths(to_asn1_cert(cert))  # type: ignore[no-untyped-call]
    except PathBuildingError:
        paths = []
    chains = [[by_der[c.dump()] for c in reversed(list(path))] for path in paths]
    for chain in chains:
        broken = next((a for a, b in pairwise(chain) if not issued_by(a, b)), None)
        if broken is None and len(chain) <= MAX_CHAIN_LENGTH:
            return chain
        if broken is not None and not registry.dead_ends:
            registry.dead_ends.append(to_asn1_cert(broken))
    if chains and not registry.dead_ends:
        raise IncompleteChainError("Chuỗi chứng thư quá dài. / The certificate chain is too long.")
    stuck = by_der[registry.dead_ends[0].dump()] if registry.dead_ends else cert
    missing = stuck.issuer.rfc4514_string()
    raise IncompleteChainError(
        f"Chuỗi chứng thư không đầy đủ: thiếu chứng thư của “{missing}”. / Incomplete chain: "
        f"the issuer “{missing}” is neither supplied nor trusted."
    )


@functools.cache
def _signing_usage() -> KeyUsageConstraints:
    # Imported here: pyhanko.sign costs most of a second to import, and the PKI's commands
    # that never check a signing certificate should not pay it.
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(
        # RFC 5280 §4.2.1.3: digitalSignature or nonRepudiation (one suffices).
        key_usage={"digital_signature", "non_repudiation"},
        match_all_key_usages=False,
        # RFC 5280 §4.2.1.12: an EKU, when present, must name a document-signing purpose
        # (anyExtendedKeyUsage included); no EKU at all is fine.
        extd_key_usage={asn1_x509.KeyPurposeId(o.dotted_string).native for o in SIGNING_EKUS},
        explicit_extd_key_usage_required=False,
    )


def check_signing_certificate(cert: x509.Certificate, *, now: dt.datetime | None = None) -> None:
    """Steps 2 and 3: valid now, and usable for document signatures.

    Raises CertificateExpiredError, WrongKeyUsageError.
    """
    now = now or utcnow()
    if now < cert.not_valid_before_utc:
        raise CertificateExpiredError(
            "Chứng thư số chưa có hiệu lực (từ "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC). / The certificate is not yet "
            f"valid (valid from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC)."
        )
    if now > cert.not_valid_after_utc:
        raise CertificateExpiredError(
            f"Chứng thư số đã hết hạn ngày {cert.not_valid_after_utc:%Y-%m-%d}. / "
            f"The certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}."
        )
    asn1 = to_asn1_cert(cert)
    if asn1.ca:
        raise WrongKeyUsageError(
            "Đây là chứng thư của CA, không dùng để ký văn bản. / "
            "This is a CA certificate, not a signing certificate."
        )
    if asn1.key_usage_value is None:
        raise WrongKeyUsageError(
            "Chứng thư số thiếu phần mở rộng keyUsage. / The certificate has no key usage "
            "extension (digitalSignature/nonRepudiation required)."
        )
    eku = asn1.extended_key_usage_value
    try:
        _signing_usage().validate_asserted_key_usage(set(asn1.key_usage_value.native))
    except InvalidCertificateError as exc:
        raise WrongKeyUsageError() from exc
    try:
        _signing_usage().validate_asserted_extended_key_usage(set(eku.native) if eku else set())
    except InvalidCertificateError as exc:
        raise WrongKeyUsageError(
            "Mục đích sử dụng mở rộng (EKU) của chứng thư không cho phép ký văn bản. / "
            "The certificate's extended key usage does not allow document signing."
        ) from exc


def check_credential(
    cert: x509.Certificate,
    public_key: PublicKeyTypes | None,
    supplied: Sequence[x509.Certificate],
    trusted: Sequence[x509.Certificate],
    *,
    now: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Run steps 1-4 of an import; return the chain above ``cert`` (issuer first, root last).

    ``public_key`` is the key actually held (None to skip step 1). Raises KeyMismatchError,
    CertificateExpiredError, WrongKeyUsageError, IncompleteChainError.
    """
    if public_key is not None and not same_public_key(public_key, cert.public_key()):
        raise KeyMismatchError()
    check_signing_certificate(cert, now=now)
    path = build_chain(cert, supplied, trusted)
    at = now or utcnow()
    stale = next(
        (ca for ca in path[1:] if not ca.not_valid_before_utc <= at <= ca.not_valid_after_utc),
        None,
    )
    if stale is not None:
        raise CertificateExpiredError(
            f"Chứng thư CA “{stale.subject.rfc4514_string()}” đã hết hạn hoặc chưa có hiệu "
            f"lực. / The CA certificate “{stale.subject.rfc4514_string()}” is not valid now."
        )
    return path[1:]
