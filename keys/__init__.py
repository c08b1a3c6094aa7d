"""keys: the provincial PKI, key storage (encrypted files, PKCS#11) and signers for the domain.

What lives where:

- ``ca`` — :class:`~keys.ca.ProvincialPKI`, the facade everything outside ``keys`` uses
  (``init``/``open``, issue, find, revoke, CRL, OCSP, TSA), and ``PkiEndpoints``.
- ``index_store`` — the certificate index: where it is kept (``IndexStore``, ``index.json``;
  ``storage.pki_index`` keeps it in the database), ``CertificateIndex`` (records, queries,
  revocations, a holder's current certificate) and ``CertificateRecord``.
- ``issuance`` — issuing and recording certificates (``Issuance``, ``IssuedCertificate``);
  ``profiles`` — what each certificate contains (root, issuing CA, OCSP, TSA, seal,
  officer), pure builders.
- ``keystore`` — files at rest: certificate copies and encrypted private keys.
- ``chains`` — chain building (pyhanko-certvalidator) and the checks a signing certificate
  must pass; ``imports`` — certificates from another CA (PKCS#12, PEM, PKCS#11).
- ``crl``, ``ocsp``, ``tsa`` — RFC 5280 CRLs, the RFC 6960 responder, the RFC 3161 TSA;
  ``services`` — the three kept up to date from the index and keys, per CA generation.
- ``rollover`` — renewing the TSA, the OCSP responders and the issuing CA, the old
  certificates kept for validation (``ProvincialPKI.renew``).
- ``tokens`` — PKCS#11 tokens; ``signers`` — pyHanko signers, timestamper and validation
  context for ``certify.signing``; ``errors`` — the package's errors.
- ``_crypto`` — private helpers (key generation, signing parameters, encryption, files).
"""
