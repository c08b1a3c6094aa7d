"""Wiring of the citizens' side (issue 12) from ``Settings``: bookings and tracking, payments,
the notifier and the e-mail outbox's sender; and the service's mail worker.

Part of the composition root (:mod:`api.services` holds the rest); each piece is built once
per ``Services`` and kept in ``services.extra``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, cast

from fastapi.concurrency import run_in_threadpool

from api.services import Services
from api.sessions import download_link_lifetime
from api.smtp_transport import SmtpTransport
from certify.citizens import Citizens
from certify.errors import CertifyError, MailUnavailableError
from certify.notifier import Notifier
from certify.outbox_sender import OutboxSender
from certify.payments import PaymentAccount, Payments

log = logging.getLogger(__name__)


def _once(services: Services, name: str, build: Any) -> Any:
    with services._lock:
        if name not in services.extra:
            services.extra[name] = build()
        return services.extra[name]


def citizens(services: Services) -> Citizens:
    """Bookings, tracking and delivery."""
    desk = services.desk()
    return cast(
        Citizens,
        _once(
            services,
            "citizens",
            lambda: Citizens(
                register=services.register,
                desk=desk,
                clock=services.clock,
                link_lifetime=download_link_lifetime(services.settings),
            ),
        ),
    )


def payments(services: Services) -> Payments:
    """The fee's payment: VietQR, the bank's webhook, the desk's record."""
    citizen_side, desk = citizens(services), services.desk()
    settings = services.settings
    accounts = {
        code: PaymentAccount(
            bank_bin=a.bank_bin,
            account_number=a.account_number,
            account_name=a.account_name,
            webhook_secret=a.webhook_secret.get_secret_value().encode("utf-8"),
        )
        for code, a in settings.payment_accounts.items()
    }
    return cast(
        Payments,
        _once(
            services,
            "payments",
            lambda: Payments(
                register=services.register,
                citizens=citizen_side,
                desk=desk,
                clock=services.clock,
                accounts=accounts,
                tolerance=dt.timedelta(seconds=settings.payment_webhook_tolerance_seconds),
            ),
        ),
    )


def notifier(services: Services) -> Notifier:
    """The audit chain's request events turned into e-mails and ready requests."""
    citizen_side = citizens(services)
    return cast(
        Notifier,
        _once(
            services,
            "notifier",
            lambda: Notifier(
                register=services.register,
                citizens=citizen_side,
                clock=services.clock,
                base_url=services.settings.resolved_public_base_url,
                link_lifetime=download_link_lifetime(services.settings),
            ),
        ),
    )


class _NoSmtp:
    """The transport when no SMTP host is set: every mail stays in the outbox."""

    def send(self, *, to: str, subject: str, body: str) -> None:
        raise MailUnavailableError(code="mail_not_configured")


def mail_sender(services: Services) -> OutboxSender:
    """The outbox's sender over SMTP (``CERTIFY_SMTP_*``)."""
    s = services.settings

    def build() -> OutboxSender:
        transport = (
            SmtpTransport(
                s.smtp_host,
                s.smtp_port,
                sender=s.smtp_sender,
                starttls=s.smtp_starttls,
                username=s.smtp_username or None,
                password=s.smtp_password.get_secret_value() or None,
                timeout=s.smtp_timeout_seconds,
            )
            if s.smtp_host
            else _NoSmtp()
        )
        return OutboxSender(services.register, transport, services.clock)

    return cast(OutboxSender, _once(services, "mail_sender", build))


def deliver_mail(services: Services) -> None:
    """One round of the mail worker: the notifier, then the outbox (when SMTP is set)."""
    notifier(services).run_once()
    if services.settings.smtp_host:
        mail_sender(services).send_due()


async def keep_delivering(services: Services) -> None:
    """The mail worker inside the service: a round every ``mail_interval_seconds``. A failed
    round is logged and tried again; nothing is lost (the notifier's place and the outbox
    are in the database)."""
    interval = services.settings.mail_interval_seconds
    if interval <= 0:
        return
    while True:
        try:
            await run_in_threadpool(deliver_mail, services)
        except CertifyError as exc:
            log.warning("mail round failed (%s)", exc.code)
        except Exception:  # a background task must not die silently, nor take the app down
            log.exception("mail round failed")
        await asyncio.sleep(interval)
