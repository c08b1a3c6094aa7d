"""Signatures per second: cached signer vs. one that reloads its key for every signature.

Run: ``python bench/bench_signers.py [N]``. Creates a throw-away RSA-PSS PKI in a temp dir,
signs a one-page PDF N times with each signer (no timestamp, no revocation info, so the key
handling dominates), and prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from keys._crypto import decrypt_private_key, to_asn1_cert
from keys.ca import ProvincialPKI
from keys.signers import CachedKeySigner, SignerSource
from tests.keys.conftest import minimal_pdf


class ReloadingSigner(signers.SimpleSigner):
    """Decrypts the encrypted PKCS#8 file and parses the key on every signature (the naive
    way, like SimpleSigner.load per request)."""

    def __init__(self, key_path: Path, passphrase: bytes, signer: CachedKeySigner) -> None:
        super().__init__(
            signing_cert=signer.signing_cert,
            signing_key=signer.signing_key,
            cert_registry=signer.cert_registry,
            prefer_pss=True,
        )
        self._path = key_path
        self._passphrase = passphrase

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        key = decrypt_private_key(self._path.read_bytes(), self._passphrase)
        fresh = CachedKeySigner(
            private_key=key,
            certificate=_from_asn1(self.signing_cert),
            chain=[],
        )
        return fresh.sign_raw(data, digest_algorithm)


def _from_asn1(cert: object) -> object:
    from cryptography import x509

    return x509.load_der_x509_certificate(cert.dump())  # type: ignore[attr-defined]


def rate(signer: signers.Signer, pdf: bytes, n: int) -> float:
    meta = signers.PdfSignatureMetadata(field_name="Sig1", subfilter=fields.SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(meta, signer=signer)
    pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description="Signatures per second: cached key vs reloaded.")
    parser.add_argument("signatures", type=int, nargs="?", default=50, help="per measurement")
    n = parser.parse_args().signatures
    passphrase = b"bench-passphrase"
    with tempfile.TemporaryDirectory() as tmp:
        pki = ProvincialPKI.init(
            Path(tmp) / "pki", province="Bench", passphrase=passphrase, base_url="http://bench"
        )
        pki.issue_authority("B01", "UBND phường Bench")
        issued = pki.issue_officer("bench", "Nguyễn Văn Bench", "Công chức", "B01")
        cached = SignerSource(pki).officer_signer("bench")
        assert isinstance(cached, CachedKeySigner)
        reloading = ReloadingSigner(pki.key_path(issued.serial), passphrase, cached)
        pdf = minimal_pdf()
        fast = rate(cached, pdf, n)
        slow = rate(reloading, pdf, n)
        _ = serialization, to_asn1_cert
    print(f"RSA-3072 PSS, {n} signatures each")
    print(f"cached signer:                 {fast:8.1f} signatures/s")
    print(f"reload key per signature:      {slow:8.1f} signatures/s")
    print(f"ratio cached/reload:           {fast / slow:8.2f}x")


if __name__ == "__main__":
    main()
