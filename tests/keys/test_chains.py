"""Chains (pyhanko-certvalidator's path builder, every signature checked) and the key usage a
signing certificate needs (RFC 5280 §4.2.1.3, §4.2.1.12)."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from keys.ca import ProvincialPKI
from keys.chains import build_chain, check_signing_certificate
from keys.errors import IncompleteChainError, WrongKeyUsageError
from tests.keys.test_imports import ForeignCA, _name


def test_the_chain_runs_from_the_leaf_to_the_root() -> None:
    ca = ForeignCA()
    _, leaf = ca.leaf()
    assert build_chain(leaf, [ca.root, ca.sub]) == [leaf, ca.sub, ca.root]
    assert build_chain(leaf, [ca.sub], [ca.root]) == [leaf, ca.sub, ca.root]
    assert build_chain(ca.root, []) == [ca.root]  # a root is its own chain


def test_the_provincial_chain(pki: ProvincialPKI) -> None:
    issued = pki.find("officer", "nva")
    assert issued.chain == (pki.ca_certificate("issuing"), pki.ca_certificate("root"))


def test_an_impostor_with_the_issuers_name_does_not_make_a_chain() -> None:
    ca = ForeignCA()
    _, leaf = ca.leaf()
    impostor_key = ec.generate_private_key(ec.SECP256R1())
    impostor = ca._cert(
        _name("Foreign Sub CA"),
        impostor_key.public_key(),
        ca=True,
        issuer=ca.root.subject,
        key=ca.root_key,
    )
    with pytest.raises(IncompleteChainError, match="Foreign Sub CA"):
        build_chain(leaf, [impostor, ca.root])
    # Beside the real one, the impostor is passed over.
    assert build_chain(leaf, [impostor, ca.sub, ca.root]) == [leaf, ca.sub, ca.root]


def test_the_missing_ca_is_named() -> None:
    ca = ForeignCA()
    _, leaf = ca.leaf()
    with pytest.raises(IncompleteChainError, match="Foreign Root") as exc:
        build_chain(leaf, [ca.sub])
    assert " / Incomplete chain" in exc.value.message


@pytest.mark.parametrize(
    "eku",
    [
        None,
        [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE],
        [ExtendedKeyUsageOID.EMAIL_PROTECTION],
        [ObjectIdentifier("1.3.6.1.5.5.7.3.36")],  # id-kp-documentSigning (RFC 9336)
        [ExtendedKeyUsageOID.CLIENT_AUTH, ObjectIdentifier("1.2.840.113583.1.1.5")],
    ],
    ids=["none", "any", "email", "document-signing", "client-auth-and-adobe"],
)
def test_signing_ekus_are_accepted(eku: list[x509.ObjectIdentifier] | None) -> None:
    _, cert = ForeignCA().leaf(eku=eku)
    check_signing_certificate(cert)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("server-auth", "extended key usage"),
        ("key-encipherment", "key usage does not allow"),
        ("ca", "CA certificate"),
    ],
)
def test_non_signing_certificates_are_refused(variant: str, message: str) -> None:
    ca = ForeignCA()
    if variant == "server-auth":
        _, cert = ca.leaf(eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    elif variant == "key-encipherment":
        _, cert = ca.leaf(signing=False)
    else:
        cert = ca.sub
    with pytest.raises(WrongKeyUsageError, match=message):
        check_signing_certificate(cert)
