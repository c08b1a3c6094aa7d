"""Local development secrets, generated once and kept beside the data they protect.

Production sets ``CERTIFY_PKI_PASSPHRASE`` (from a secret store); a bare ``certify serve`` on a
developer's machine gets a random passphrase in ``{data_dir}/secrets/pki-passphrase`` (0600),
so that private keys are still never written unencrypted.
"""

from __future__ import annotations

import logging
import os
import secrets

from api.settings import Settings

log = logging.getLogger(__name__)


def local_pki_passphrase(settings: Settings) -> bytes:
    """The PKI passphrase: the setting, else a generated local one (with a warning)."""
    configured = settings.pki_passphrase.get_secret_value()
    if configured:
        return configured.encode()
    directory = settings.data_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "pki-passphrase"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32))
        log.warning(
            "CERTIFY_PKI_PASSPHRASE is not set: generated a local one in %s. "
            "Set it from a secret store in production.",
            path,
        )
    return path.read_text().strip().encode()
