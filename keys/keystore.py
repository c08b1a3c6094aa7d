"""The PKI's files at rest: a PEM copy of every certificate (``certs/``, for tools) and every
private key held here, encrypted (``private/``, 0600).

Keys are written as PKCS#12 (PBES2, PBKDF2-HMAC-SHA256 at 600,000 iterations, AES-256-CBC;
``keys._crypto.encrypt_private_key``); keys written before as encrypted PKCS#8 PEM stay
readable. A key that cannot be loaded is the server's fault (KeyUnavailableError), never
the caller's. Keys on PKCS#11 tokens are ``keys.tokens``'s business.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from keys._crypto import decrypt_private_key, encrypt_private_key, write_file
from keys.errors import KeyUnavailableError, UnreadableKeyMaterialError, WrongPassphraseError

_FILES = (("certs", ".pem"), ("private", ".key.pem"), ("private", ".key.p12"))


class KeyFiles:
    """Certificate copies and encrypted keys under ``directory``; keys stay in memory once
    decrypted (thread-safe). The passphrase is never shown (``repr``) nor logged."""

    def __init__(self, directory: Path, passphrase: bytes) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._keys: dict[int, PrivateKeyTypes] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyFiles({str(self.directory)!r})"

    def cert_path(self, serial: int) -> Path:
        return self.directory / "certs" / f"{serial:x}.pem"

    def key_path(self, serial: int) -> Path:
        """The key file of ``serial``: PKCS#12 (``.key.p12``) as written now, or the PKCS#8
        PEM (``.key.pem``) a key written before was kept in. It may not exist."""
        legacy = self.directory / "private" / f"{serial:x}.key.pem"
        return legacy if legacy.exists() else self.directory / "private" / f"{serial:x}.key.p12"

    def write(self, cert: x509.Certificate, key: PrivateKeyTypes | None) -> None:
        """Write the copy of ``cert`` and, if given, its key encrypted.

        Raises WrongPassphraseError for an empty passphrase."""
        serial = cert.serial_number
        write_file(self.cert_path(serial), cert.public_bytes(serialization.Encoding.PEM))
        if key is not None:
            write_file(self.key_path(serial), encrypt_private_key(key, self._passphrase))
            with self._lock:
                self._keys[serial] = key

    def load(self, serial: int) -> PrivateKeyTypes:
        """The private key of ``serial``, decrypted once and then kept.

        Raises KeyUnavailableError (a server-side fault) if the file is missing, damaged, or
        not opened by the configured passphrase."""
        with self._lock:
            if serial in self._keys:
                return self._keys[serial]
            path = self.key_path(serial)
            try:
                key = decrypt_private_key(path.read_bytes(), self._passphrase)
            except (OSError, WrongPassphraseError, UnreadableKeyMaterialError) as exc:
                # Our own key file: a wrong passphrase in the server's settings or a damaged
                # file is the operator's to fix, never the caller's (the cause is chained).
                raise KeyUnavailableError(
                    f"Không tải được khoá bí mật của chứng thư {serial:x} (sai mật khẩu PKI đã "
                    "cấu hình hoặc tệp khoá hỏng); vui lòng báo quản trị viên. / The private "
                    f"key of certificate {serial:x} cannot be loaded (wrong PKI passphrase "
                    "configured, or a damaged key file); please tell the administrator."
                ) from exc
            self._keys[serial] = key
            return key

    def orphans(self, known_hex: Iterable[str]) -> list[Path]:
        """Certificate and key files whose serial (hex) is not in ``known_hex``."""
        known = set(known_hex)
        return [
            path
            for folder, suffix in _FILES
            for path in sorted((self.directory / folder).glob(f"*{suffix}"))
            if path.name.removesuffix(suffix) not in known
        ]
