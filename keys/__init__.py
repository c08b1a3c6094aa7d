"""keys: the provincial PKI, key storage (encrypted files, PKCS#11) and signers for the domain."""
