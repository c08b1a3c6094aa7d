"""What the PKI answers when a holder's certificate or key cannot be used: a revoked
certificate says so (certificate_revoked), and a key file of the server's own that cannot be
loaded is the server's fault (key_unavailable, HTTP 500), never the caller's."""

from __future__ import annotations

import pytest

from api.errors import status_for
from certify.errors import KeyMaterialError
from keys._crypto import encrypt_private_key
from keys.ca import ProvincialPKI
from keys.errors import CertificateRevokedError, KeyUnavailableError, NoCertificateError
from keys.signers import SignerSource
from keys.tsa import build_query
from tests.keys.conftest import BASE_URL, PASSPHRASE, issue_officer, pki_client


def _bilingual(message: str) -> None:
    vietnamese, english = message.split(" / ", 1)
    assert vietnamese
    assert english


# --- a revoked certificate --------------------------------------------------------------------


def test_an_officer_whose_only_certificate_is_revoked_gets_certificate_revoked(
    own_pki: ProvincialPKI,
) -> None:
    issued = issue_officer(own_pki, "revoked.only")
    own_pki.revoke(issued.serial, "keyCompromise")
    with pytest.raises(CertificateRevokedError) as exc:
        own_pki.find("officer", "revoked.only")
    assert exc.value.code == "certificate_revoked"
    assert "keyCompromise" in exc.value.message
    _bilingual(exc.value.message)
    with pytest.raises(CertificateRevokedError):
        SignerSource(own_pki).officer_signer("revoked.only")


def test_an_authority_whose_only_seal_is_revoked_gets_certificate_revoked(
    own_pki: ProvincialPKI,
) -> None:
    own_pki.revoke(own_pki.find("authority", "TP01").serial, "cessationOfOperation")
    with pytest.raises(CertificateRevokedError, match="cessationOfOperation") as exc:
        SignerSource(own_pki).seal_signer("TP01")
    assert exc.value.code == "certificate_revoked"


def test_a_revoked_certificate_replaced_by_a_new_one_is_not_an_error(
    own_pki: ProvincialPKI,
) -> None:
    old = issue_officer(own_pki, "renewed")
    own_pki.revoke(old.serial, "superseded")
    new = issue_officer(own_pki, "renewed")
    assert own_pki.find("officer", "renewed").serial == new.serial
    assert SignerSource(own_pki).officer_signer("renewed") is not None


def test_no_certificate_at_all_is_still_not_found(pki: ProvincialPKI) -> None:
    with pytest.raises(NoCertificateError) as exc:
        pki.find("officer", "nobody")
    assert exc.value.code == "certificate_not_found"
    _bilingual(exc.value.message)


# --- a key the server cannot load ---------------------------------------------------------------


def _assert_server_side(error: KeyUnavailableError) -> None:
    assert error.code == "key_unavailable"
    assert not isinstance(error, KeyMaterialError)  # not "your key or certificate is bad"
    assert status_for(error) == 500
    _bilingual(error.message)


def test_a_damaged_key_file_is_key_unavailable(own_pki: ProvincialPKI) -> None:
    issued = issue_officer(own_pki, "damaged.key")
    own_pki.key_path(issued.serial).write_bytes(b"\x30\x82 not a PKCS#12 file")
    # Opened afresh, as after a restart: nothing decrypted is held in memory.
    again = ProvincialPKI.open(own_pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    with pytest.raises(KeyUnavailableError) as exc:
        SignerSource(again).officer_signer("damaged.key")
    _assert_server_side(exc.value)


def test_a_key_the_configured_passphrase_does_not_open_is_key_unavailable(
    own_pki: ProvincialPKI,
) -> None:
    # A key written with another passphrase (e.g. by `certify pki` run with other settings).
    issued = issue_officer(own_pki, "other.passphrase")
    key = own_pki.private_key(issued.serial)
    own_pki.key_path(issued.serial).write_bytes(encrypt_private_key(key, b"not the server's"))
    again = ProvincialPKI.open(own_pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    with pytest.raises(KeyUnavailableError) as exc:
        again.private_key(issued.serial)
    _assert_server_side(exc.value)


def test_a_missing_key_file_is_key_unavailable(own_pki: ProvincialPKI) -> None:
    issued = issue_officer(own_pki, "missing.key")
    own_pki.key_path(issued.serial).unlink()
    again = ProvincialPKI.open(own_pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    with pytest.raises(KeyUnavailableError) as exc:
        again.private_key(issued.serial)
    _assert_server_side(exc.value)


def test_opening_with_the_wrong_passphrase_is_key_unavailable(pki: ProvincialPKI) -> None:
    with pytest.raises(KeyUnavailableError) as exc:
        ProvincialPKI.open(pki.directory, passphrase=b"wrong", base_url=BASE_URL)
    _assert_server_side(exc.value)


def test_the_http_face_answers_500_key_unavailable(own_pki: ProvincialPKI) -> None:
    tsa = next(r for r in own_pki.list() if r.kind == "tsa")
    own_pki.key_path(tsa.serial).write_bytes(b"damaged")
    again = ProvincialPKI.open(own_pki.directory, passphrase=PASSPHRASE, base_url=BASE_URL)
    with pki_client(again) as client:
        res = client.post(
            "/pki/tsa",
            content=build_query(b"a document"),
            headers={"Content-Type": "application/timestamp-query"},
        )
    assert res.status_code == 500
    assert res.json()["error"] == "key_unavailable"
    _bilingual(res.json()["message"])
