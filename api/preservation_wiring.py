"""The preservation run wired from the settings (``certify.preservation``): for ``certify
preserve`` and the service's scheduled job."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from starlette.concurrency import run_in_threadpool

from api.services import Services, TrustCache
from certify.errors import CertifyError
from certify.preservation import CertificateExpiry, PreservationPolicy, Preserver
from certify.signing import CopySigner
from certify.verification import LocalCheck
from keys.signers import SignerSource

log = logging.getLogger(__name__)

FIRST_RUN_DELAY_SECONDS = 300.0


def policy_of(services: Services) -> PreservationPolicy:
    s = services.settings
    weak = frozenset(d.strip().lower() for d in s.preserve_weak_digests.split(",") if d.strip())
    return PreservationPolicy(
        margin=dt.timedelta(days=s.preserve_margin_days),
        weak_digests=weak,
        digest_algorithm=s.preserve_digest_algorithm,
        batch=s.preserve_batch,
    )


def certificate_expiry(signers: SignerSource) -> CertificateExpiry:
    """notAfter of the PKI's certificates by SHA-256 of their DER: the index is read again
    only for a certificate not seen yet (e.g. issued by another process since)."""
    cache: dict[str, dt.datetime] = {}
    generation = [-1]

    def expiry(sha256_hex: str) -> dt.datetime | None:
        if sha256_hex in cache:  # a certificate's end never changes
            return cache[sha256_hex]
        pki = signers.pki
        current = pki.refresh()
        if current != generation[0]:
            cache.clear()
            for rec in pki.list():
                der = pki.certificate(rec.serial).public_bytes(Encoding.DER)
                cache[hashlib.sha256(der).hexdigest()] = rec.not_after
            generation[0] = current
        return cache.get(sha256_hex)

    return expiry


def preserver(services: Services, *, workdir: Path | None = None) -> Preserver:
    """A preservation run over the service's register, store and PKI.

    Raises PkiNotInitialisedError when there is no PKI yet.
    """
    signers = services.signers()
    return Preserver(
        register=services.register,
        store=services.store,
        renewer=CopySigner(signers, clock=services.clock),
        check=LocalCheck(TrustCache(signers), services.clock),
        expiry=certificate_expiry(signers),
        clock=services.clock,
        policy=policy_of(services),
        workdir=workdir or Path(tempfile.gettempdir()),
    )


async def keep_preserving(services: Services) -> None:
    """The scheduled preservation run inside the service: every ``preserve_interval_hours``
    (the lease lets one replica work at a time; the others find it held)."""
    hours = services.settings.preserve_interval_hours
    if hours <= 0:
        return
    # Not at start-up: a replica that has just started serves first (and a restart loop
    # does not start a run each time).
    await asyncio.sleep(min(hours * 3600, FIRST_RUN_DELAY_SECONDS))
    run = None
    while True:
        try:
            if run is None:
                run = await run_in_threadpool(preserver, services)
            report = await run_in_threadpool(run.run)
            if report.renewed or report.failed or report.stopped:
                log.info(
                    "preservation: %d renewed, %d failed, stopped: %s",
                    report.renewed,
                    len(report.failed),
                    report.stopped,
                )
        except CertifyError as exc:
            log.warning("preservation run failed (%s)", exc.code)
        except Exception:  # a background task must not die silently, nor take the app down
            log.exception("preservation run failed")
        await asyncio.sleep(hours * 3600)
