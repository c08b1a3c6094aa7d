"""The SMTP transport of the e-mail outbox (``certify.citizen_ports.MailTransport``): one
plain-text UTF-8 e-mail per connection, handed to the service's mail server (RFC 5321) with
``smtplib``, whose errors are translated here into the service's.

Which errors concern the server as a whole and which one message only matters to the sender
(``certify.outbox_sender``): the first stop a batch, the others do not. Every failure keeps
the message in the outbox to be tried again; staff see its code. Never logs an address or a
body.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid

from certify.errors import InvalidInputError, MailUnavailableError
from certify.outbox_sender import (
    MAIL_AUTH_FAILED,
    MAIL_DEFERRED,
    MAIL_INVALID,
    MAIL_REJECTED,
)
from certify.ports import VN_TZ, Clock, SystemClock

# What may not appear in a header value: a line break would end the header and let the
# value inject others (Bcc:, a second body); other control characters have no place there.
_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# A bare address (local@domain), one only: no display name, list or comment.
_ADDRESS = re.compile(r"[^\s@,;:<>()\[\]\"\\]+@[^\s@,;:<>()\[\]\"\\]+")
_MAX_ADDRESS = 254  # RFC 5321 §4.5.3.1.3 (path) less the angle brackets
# A 421 reply to a recipient is the server closing the connection, not a refusal of it.
_SERVICE_CLOSING = 421


def _invalid(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"Thư điện tử không hợp lệ ({what}). / Invalid e-mail ({what}).", code=MAIL_INVALID
    )


def _unavailable() -> MailUnavailableError:
    # The server's reply is not put in the message (which may be shown): it may quote the
    # address. It stays in the exception's cause.
    return MailUnavailableError()


def _rejected() -> MailUnavailableError:
    return MailUnavailableError(
        "Máy chủ thư từ chối thư này (người nhận hoặc nội dung). / "
        "The mail server refused this e-mail (recipient or content).",
        code=MAIL_REJECTED,
    )


def _deferred() -> MailUnavailableError:
    return MailUnavailableError(
        "Máy chủ thư tạm hoãn nhận thư này. / The mail server deferred this e-mail.",
        code=MAIL_DEFERRED,
    )


class SmtpTransport:
    """Sends each e-mail over a new SMTP connection to ``host:port`` (STARTTLS and login if
    asked), from ``sender`` ("chungthuc@xa.gov.vn" or "Name <chungthuc@xa.gov.vn>").

    ``clock`` dates the e-mails (default: the system clock).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10,
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Raises ``ValueError`` for an empty host, a sender that is not one address with a
        domain, or a timeout not positive."""
        if not host:
            raise ValueError("SMTP host is empty")
        if timeout <= 0:
            raise ValueError("SMTP timeout must be positive")
        found = getaddresses([sender])
        address = found[0][1] if len(found) == 1 else ""
        if _HEADER_UNSAFE.search(sender) or not _ADDRESS.fullmatch(address):
            raise ValueError("SMTP sender must be one e-mail address")
        self._host = host
        self._port = port
        self._sender = sender
        self._sender_address = address
        self._domain = address.rsplit("@", 1)[1]
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self._ssl_context = ssl_context

    def send(self, *, to: str, subject: str, body: str) -> None:
        """Hand one e-mail to the mail server.

        Raises ``InvalidInputError`` (code ``mail_invalid``: ``to`` not one bare address,
        a line break or control character in ``to`` or ``subject``), and
        ``MailUnavailableError`` with code ``mail_unavailable`` (server unreachable, timed
        out, disconnected, refusing the service: the next e-mails would fail alike),
        ``mail_auth_failed`` (login refused), ``mail_rejected`` (5xx for this recipient or
        this e-mail) or ``mail_deferred`` (4xx for this recipient).
        """
        if _HEADER_UNSAFE.search(subject):
            raise _invalid("subject")
        if len(to) > _MAX_ADDRESS or not _ADDRESS.fullmatch(to):
            raise _invalid("to")
        message = self._message(to, subject, body)
        smtp = smtplib.SMTP(timeout=self._timeout)
        try:
            self._open(smtp)
            self._hand_over(smtp, message, to)
            # The server has taken the e-mail: a failed goodbye does not undo that.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
        finally:
            smtp.close()

    def _message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock.now().astimezone(VN_TZ))
        message["Message-ID"] = make_msgid(domain=self._domain)
        # RFC 3834: sent by a machine; auto-responders should not answer it.
        message["Auto-Submitted"] = "auto-generated"
        message["Content-Language"] = "vi, en"
        # Quoted-printable: 7-bit safe for any server, the ASCII parts (links) stay legible.
        message.set_content(body, subtype="plain", charset="utf-8", cte="quoted-printable")
        return message

    def _open(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.connect(self._host, self._port)
            if self._starttls:
                smtp.starttls(context=self._ssl_context or ssl.create_default_context())
            if self._username:
                smtp.login(self._username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailUnavailableError(
                "Máy chủ thư không nhận đăng nhập của dịch vụ. / "
                "The mail server refused the service's login.",
                code=MAIL_AUTH_FAILED,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, TLS, 4xx/5xx
            raise _unavailable() from exc

    def _hand_over(self, smtp: smtplib.SMTP, message: EmailMessage, to: str) -> None:
        try:
            smtp.send_message(message, from_addr=self._sender_address, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [reply[0] for reply in exc.recipients.values()]
            if _SERVICE_CLOSING in codes:
                raise _unavailable() from exc
            if codes and all(code >= 500 for code in codes):
                raise _rejected() from exc
            raise _deferred() from exc
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code >= 500:
                raise _rejected() from exc
            raise _unavailable() from exc
        except smtplib.SMTPNotSupportedError as exc:
            # An address that needs SMTPUTF8, which this server does not offer.
            raise _rejected() from exc
        except (smtplib.SMTPException, OSError) as exc:  # sender refused, disconnect, timeout
            raise _unavailable() from exc
