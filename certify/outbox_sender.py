"""Sending the e-mail outbox (issue 12): claim the due messages, hand each to the mail
transport, mark it sent or failed; a failed message is tried again after an exponential
backoff. A message is never lost: it stays in the outbox until the transport took it.

Delivery is at least once: a worker that dies between handing a message over and marking it
sent leaves it to be sent again when its lease ends. Logs message ids and error codes only,
never an address or a body (which may hold a download link's secret).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Final

from certify.citizen_ports import MailMessage, MailTransport, Outbox
from certify.errors import CertifyError, MailUnavailableError
from certify.ports import Clock

logger = logging.getLogger(__name__)

# The codes a transport gives its errors (``api.smtp_transport``). Those of the server as a
# whole (down, unreachable, refusing the service's own login) fail every next message the
# same way, so a batch stops at the first; the others concern one message only.
MAIL_UNAVAILABLE: Final = MailUnavailableError.code
MAIL_AUTH_FAILED: Final = "mail_auth_failed"
MAIL_REJECTED: Final = "mail_rejected"  # 5xx for this recipient or content: staff look
MAIL_DEFERRED: Final = "mail_deferred"  # 4xx for this recipient (greylisting, mailbox full)
MAIL_INVALID: Final = "mail_invalid"
MAIL_ERROR: Final = "mail_error"  # an unexpected failure of the transport
SERVER_DOWN_CODES: Final = frozenset({MAIL_UNAVAILABLE, MAIL_AUTH_FAILED})


@dataclass(frozen=True)
class SendReport:
    """What one ``send_due`` did: messages ``sent``; ``failed`` (tried, kept for a retry);
    ``deferred`` (not tried: put back after the server was found down, or left when the
    lease ran out); the error codes met, sorted."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    error_codes: tuple[str, ...] = ()

    @property
    def claimed(self) -> int:
        return self.sent + self.failed + self.deferred


class OutboxSender:
    """Sends the outbox's due messages, ``batch`` at a time, each leased for ``lease``.

    The n-th retry of a message (n = its failed attempts so far) waits
    ``min(backoff_base · 2**n, backoff_max)``.
    """

    def __init__(
        self,
        outbox: Outbox,
        transport: MailTransport,
        clock: Clock,
        *,
        batch: int = 20,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        backoff_base: dt.timedelta = dt.timedelta(seconds=30),
        backoff_max: dt.timedelta = dt.timedelta(hours=1),
    ) -> None:
        """Raises ``ValueError`` for a batch below 1, a lease or base not positive, or a
        maximum below the base."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        if lease <= dt.timedelta(0) or backoff_base <= dt.timedelta(0):
            raise ValueError("lease and backoff_base must be positive")
        if backoff_max < backoff_base:
            raise ValueError("backoff_max must not be below backoff_base")
        self._outbox = outbox
        self._transport = transport
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self._base = backoff_base
        self._max = backoff_max

    def backoff(self, attempts: int) -> dt.timedelta:
        """How long a message that has failed ``attempts`` times before waits after failing
        once more."""
        # Doubling stops at the maximum: no overflow however many the attempts.
        delay = self._base
        for _ in range(attempts):
            if delay >= self._max:
                break
            delay *= 2
        return min(delay, self._max)

    def send_due(self) -> SendReport:
        """Send the messages due now (one batch).

        One message failing never stops the others and never raises: it is marked failed
        with its error's code and tried again after its backoff. When the server itself
        looks down, the batch stops and the messages not yet tried are put back at once,
        each with its own backoff (as failed with the same code: the server was down for
        them too), rather than waiting for their lease to end.

        Raises what the outbox raises (``DatabaseUnavailableError``, ...): the messages
        then stay leased until the lease ends and are sent later, none is lost.
        """
        started = self._clock.now()
        messages = self._outbox.claim_due(started, limit=self._batch, lease=self._lease)
        sent = failed = deferred = 0
        codes: set[str] = set()
        for position, message in enumerate(messages):
            now = self._clock.now()
            if now >= started + self._lease:
                # Another worker may have leased the rest by now: sending them could send
                # twice. Their lease has ended, so they are claimable again.
                deferred += len(messages) - position
                logger.warning("outbox lease ran out; %d messages left", len(messages) - position)
                break
            code = self._send(message)
            if code is None:
                self._outbox.mark_sent(message.id, self._clock.now())
                sent += 1
                continue
            failed += 1
            codes.add(code)
            self._fail(message, code)
            if code in SERVER_DOWN_CODES:
                rest = messages[position + 1 :]
                for untried in rest:
                    self._fail(untried, code)
                deferred += len(rest)
                break
        return SendReport(
            sent=sent, failed=failed, deferred=deferred, error_codes=tuple(sorted(codes))
        )

    def _send(self, message: MailMessage) -> str | None:
        """Hand ``message`` to the transport; the error code if that failed, else None."""
        try:
            self._transport.send(to=message.to_address, subject=message.subject, body=message.body)
        except CertifyError as exc:
            logger.warning("outbox message %d not sent: %s", message.id, exc.code)
            return exc.code
        except Exception as exc:  # a transport bug must not stop the outbox for good
            # The type only, no traceback: an unknown exception's text may hold the address.
            logger.error(  # noqa: TRY400
                "outbox message %d not sent: %s", message.id, type(exc).__name__
            )
            return MAIL_ERROR
        logger.info("outbox message %d sent", message.id)
        return None

    def _fail(self, message: MailMessage, code: str) -> None:
        now = self._clock.now()
        self._outbox.mark_failed(
            message.id, now=now, retry_at=now + self.backoff(message.attempts), error=code
        )
