"""Paying the fee without cash (issue 12.3; TT 226/2016 art. 4, DOMAIN.md "Payment is
cashless").

- The tracking page shows a VietQR code (:mod:`certify.vietqr`) for the fee still due, to the
  authority's account, with the request's reference (``HS`` and its 10 hex digits), once the
  fee is final (every original finished). An authority that waives fees shows no payment.
- The bank (or its payment gateway) confirms a transfer on a webhook signed with HMAC-SHA256
  under the authority's secret (:mod:`certify.webhook_signature`). A confirmation is
  recorded once per bank transaction (a repeated delivery answers the first record), and is
  refused when the signature, its time, the account, the amount or the reference does not
  match; each refusal is recorded in the audit chain.
- A clerk may record a payment at the desk (transfer seen, card, or cash); the public
  measure counts which were cashless.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final, Protocol

from certify import webhook_signature
from certify.access import Principal
from certify.citizen_ports import PAYMENT_METHODS, PaymentRecord
from certify.citizens import Citizens, Tracking
from certify.desk import Desk
from certify.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    RegisterConflictError,
)
from certify.ports import AuditRecord, Clock, RegisterTransaction, RequestRecord
from certify.vietqr import vietqr_payload

BANK_ACTOR: Final = "bank"
# A request's payment reference in a transfer's description: "HS" + the code's hex digits
# (banks drop the dash and may add words around it).
_REFERENCE_RE: Final = re.compile(r"HS-?([0-9A-F]{10})(?![0-9A-F])")
MAX_AMOUNT: Final = 100_000_000


@dataclass(frozen=True)
class PaymentAccount:
    """An authority's account for fees (a setting per authority) and its webhook secret."""

    bank_bin: str
    account_number: str
    account_name: str
    webhook_secret: bytes = field(repr=False)


def payment_reference(request_code: str) -> str:
    """The reference a transfer carries for request ``request_code`` (``HS-4F2A9C01B7`` →
    ``HS4F2A9C01B7``): no personal data, and no tracking code."""
    return request_code.replace("-", "")


def request_code_of(text: str) -> str | None:
    """The request code a transfer's description refers to, or None."""
    found = _REFERENCE_RE.search(text.upper())
    return None if found is None else f"HS-{found.group(1)}"


class PaymentRegister(Protocol):
    def transaction(self) -> AbstractContextManager[RegisterTransaction]: ...

    def get_request(self, code: str) -> RequestRecord: ...

    def add_payment(
        self, payment: PaymentRecord, *, audit: AuditRecord
    ) -> tuple[PaymentRecord, bool]: ...


class Payments:
    """The fee's payment. Build once per process (``api.services``)."""

    def __init__(
        self,
        *,
        register: PaymentRegister,
        citizens: Citizens,
        desk: Desk,
        clock: Clock,
        accounts: Mapping[str, PaymentAccount],
        tolerance: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self._register = register
        self._citizens = citizens
        self._desk = desk
        self._clock = clock
        self._accounts = dict(accounts)
        self._tolerance = tolerance

    def account(self, authority_code: str) -> PaymentAccount | None:
        return self._accounts.get(authority_code)

    def due(self, tracking: Tracking) -> int:
        """What is still to pay (0 when paid, waived, or not final yet)."""
        if tracking.payment_state != "unpaid" or tracking.fee is None:
            return 0
        return tracking.fee - tracking.paid

    def qr_payload(self, tracking: Tracking) -> str | None:
        """The VietQR payload of the fee still due, or None (nothing due, or the authority
        has no account set)."""
        account = self.account(tracking.authority.code)
        amount = self.due(tracking)
        if account is None or amount <= 0:
            return None
        return vietqr_payload(
            bank_bin=account.bank_bin,
            account_number=account.account_number,
            amount=amount,
            reference=payment_reference(tracking.request.code),
        )

    def record_at_desk(
        self, who: Principal, request_code: str, *, method: str, amount: int
    ) -> PaymentRecord:
        """A clerk records a payment received at the desk (``transfer``, ``card`` or
        ``cash``).

        Raises ``NotFoundError`` (another authority's request too), ``PermissionDeniedError``
        (not a clerk), ``InvalidInputError`` (``payment_invalid``).
        """
        desk = self._desk.own(who, request_code, role="clerk")
        if method not in PAYMENT_METHODS:
            raise InvalidInputError(
                "Hình thức thanh toán không hợp lệ. / Unknown payment method.",
                code="payment_invalid",
            )
        if isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
            raise InvalidInputError(
                "Số tiền không hợp lệ. / The amount is not valid.", code="payment_invalid"
            )
        if desk.request.status in ("booked", "cancelled"):
            raise InvalidInputError(
                "Hồ sơ chưa được tiếp nhận hoặc đã huỷ. / The request is not received or is "
                "cancelled.",
                code="payment_invalid",
            )
        now = self._clock.now()
        payment, _ = self._register.add_payment(
            PaymentRecord(
                request_code=request_code,
                amount=amount,
                method=method,
                reference=payment_reference(request_code),
                paid_at=now,
                recorded_by=who.username,
            ),
            audit=AuditRecord(
                actor=who.username,
                action="payment_recorded",
                subject=request_code,
                at=now,
                details={"authority": who.authority_code, "method": method, "amount": str(amount)},
            ),
        )
        return payment

    def confirm_transfer(
        self, authority_code: str, *, timestamp: str, signature: str, body: bytes
    ) -> tuple[PaymentRecord, bool]:
        """The bank's confirmation of a transfer to ``authority_code``'s account: a JSON
        body ``{"transaction_id", "amount", "reference", "account_number"}`` signed with the
        authority's secret. Returns the payment and whether it is new (False: this
        transaction was confirmed before, nothing changes).

        Raises ``NotFoundError`` (``payment_account_unknown``), ``PermissionDeniedError``
        (``webhook_signature_invalid``, ``webhook_stale``), ``InvalidInputError``
        (``webhook_invalid``, ``payment_account_mismatch``, ``payment_reference_unknown``,
        ``payment_amount_mismatch``), ``RegisterConflictError`` (``payment_conflict``).
        Every refusal is recorded (``payment_refused``).
        """
        account = self._accounts.get(authority_code)
        if account is None:
            raise NotFoundError(
                "Cơ quan này chưa có tài khoản nhận phí. / This authority has no fee account.",
                code="payment_account_unknown",
            )
        now = self._clock.now()
        try:
            webhook_signature.verify(
                account.webhook_secret,
                timestamp=timestamp,
                signature=signature,
                body=body,
                now=now,
                tolerance=self._tolerance,
            )
            return self._confirm(authority_code, account, body, now)
        except (
            InvalidInputError,
            NotFoundError,
            PermissionDeniedError,
            RegisterConflictError,
        ) as exc:
            self._refused(authority_code, exc.code, now)
            raise

    def _confirm(
        self, authority_code: str, account: PaymentAccount, body: bytes, now: dt.datetime
    ) -> tuple[PaymentRecord, bool]:
        txn, amount, reference, account_number = _parse(body)
        if account_number is not None and account_number != account.account_number:
            raise InvalidInputError(
                "Tài khoản nhận không phải của cơ quan này. / The receiving account is not this "
                "authority's.",
                code="payment_account_mismatch",
            )
        code = request_code_of(reference)
        tracking = None
        if code is not None:
            try:
                request = self._register.get_request(code)
            except NotFoundError:
                request = None
            if request is not None and request.authority_code == authority_code:
                tracking = self._citizens.tracking_of(request)
        if tracking is None or code is None:
            raise InvalidInputError(
                "Nội dung chuyển khoản không khớp hồ sơ nào. / The reference matches no request.",
                code="payment_reference_unknown",
            )
        for seen in tracking.payments:
            if seen.provider_txn == txn:  # the same confirmation delivered again
                if seen.amount != amount:
                    raise RegisterConflictError(
                        "Mã giao dịch này đã được ghi với số tiền khác. / This transaction was "
                        "recorded with another amount.",
                        code="payment_conflict",
                    )
                return seen, False
        if amount != self.due(tracking):
            raise InvalidInputError(
                "Số tiền không khớp lệ phí còn phải nộp. / The amount does not match the fee due.",
                code="payment_amount_mismatch",
            )
        return self._register.add_payment(
            PaymentRecord(
                request_code=code,
                amount=amount,
                method="transfer",
                reference=reference[:64],
                paid_at=now,
                recorded_by=BANK_ACTOR,
                provider_txn=txn,
            ),
            audit=AuditRecord(
                actor=BANK_ACTOR,
                action="payment_confirmed",
                subject=code,
                at=now,
                details={"authority": authority_code, "amount": str(amount), "txn": txn},
            ),
        )

    def _refused(self, authority_code: str, reason: str, now: dt.datetime) -> None:
        with self._register.transaction() as tx:
            tx.append_audit(
                AuditRecord(
                    actor=BANK_ACTOR,
                    action="payment_refused",
                    subject=authority_code,
                    at=now,
                    details={"authority": authority_code, "reason": reason},
                )
            )


def _parse(body: bytes) -> tuple[str, int, str, str | None]:
    """``(transaction id, amount, reference, account number or None)`` of a webhook body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        raise _invalid()
    txn, amount, reference = data.get("transaction_id"), data.get("amount"), data.get("reference")
    account = data.get("account_number")
    if (
        not isinstance(txn, str)
        or not 0 < len(txn) <= 128
        or not txn.isprintable()
        or isinstance(amount, bool)
        or not isinstance(amount, int)
        or not 0 < amount <= MAX_AMOUNT
        or not isinstance(reference, str)
        or len(reference) > 500
        or (account is not None and not isinstance(account, str))
    ):
        raise _invalid()
    return txn, amount, reference, account


def _invalid() -> InvalidInputError:
    return InvalidInputError(
        "Nội dung xác nhận thanh toán không hợp lệ. / The payment confirmation is malformed.",
        code="webhook_invalid",
    )
