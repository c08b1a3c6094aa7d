# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""The appointment slip (phiếu hẹn trả kết quả) given when a request is extended.

NĐ 23/2015 art. 7 (DOMAIN.md "Time limits"): a request may be extended by at most 2 working
days, and the requester then gets a slip with the day and the hour (the day is checked by
:func:`certify.deadlines.check_appointment`; this module only prints it). One page, A5, or
A4 when the list of originals needs it; Vietnamese first, English below in smaller type;
the request code large (the citizen quotes it); times in Vietnam time; text at least 8 pt.

Public API: :class:`AppointmentSlip`, :func:`render_appointment_slip`,
:class:`AppointmentSlipError`. Drawn with :mod:`certify.pdf_text` and an embedded
:class:`~certify.fonts.PreparedFont`, like the copies and the register's prints. The same
slip gives the same bytes: the file's dates are ``received_at``, its /ID a content hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from certify.errors import CertifyError, InvalidInputError
from certify.fonts import PreparedFont
from certify.pdf_text import centered, fit, nums, text_op, wrap
from certify.ports import VN_TZ
from certify.register import format_vnd

__all__ = ["AppointmentSlip", "AppointmentSlipError", "render_appointment_slip"]

A5: Final = (419.528, 595.276)
A4: Final = (595.276, 841.89)
MARGIN: Final = 26.0
LEADING: Final = 1.3
EN: Final = 8.0  # the English lines: smaller and grey, never below 8 pt
MOTTO: Final = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
_VI_DAYS: Final = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
_EN_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August")
_EN_MONTHS_END: Final = ("September", "October", "November", "December")

_Line = tuple[str, float, str]  # text, size, style: b bold, g grey, c centred, u/v ruled


class AppointmentSlipError(CertifyError):
    """The appointment slip could not be produced."""

    code = "appointment_slip_failed"
    default_message = "Không in được phiếu hẹn. / The appointment slip could not be made."


@dataclass(frozen=True)
class AppointmentSlip:
    """What the slip shows; ``documents`` are (name of the original, number of copies).

    :raises InvalidInputError: a naive datetime (code ``naive_datetime``), an appointment
        not after the reception (``appointment_invalid``), no documents, copies below 1, a
        negative fee, or an empty code or name (``invalid_input``).
    """

    authority_name: str
    province_name: str
    request_code: str
    requester_name: str
    documents: tuple[tuple[str, int], ...]
    received_at: dt.datetime
    appointment_at: dt.datetime
    officer_name: str
    fee: int | None

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None or self.appointment_at.utcoffset() is None:
            raise InvalidInputError(
                "Thời điểm phải kèm múi giờ. / Times must be timezone-aware.",
                code="naive_datetime",
            )
        if self.appointment_at <= self.received_at:
            raise InvalidInputError(
                "Giờ hẹn phải sau giờ nhận hồ sơ. / The appointment must follow the reception.",
                code="appointment_invalid",
            )
        names = (self.request_code, self.requester_name, self.officer_name, self.authority_name)
        if (
            not self.documents
            or any(n < 1 or not d.strip() for d, n in self.documents)
            or (self.fee or 0) < 0
            or not all(s.strip() for s in names)
        ):
            raise InvalidInputError("Phiếu hẹn thiếu thông tin. / The slip lacks a field.")


def render_appointment_slip(
    slip: AppointmentSlip, *, font: PreparedFont, bold_font: PreparedFont | None = None
) -> bytes:
    """The slip as a one-page PDF: A5, or A4 when the originals do not all fit on A5 (what
    does not fit on A4 either is summed up in one line, "… và N giấy tờ khác").

    :raises AppointmentSlipError: if the PDF cannot be written.
    """
    try:
        for paper in (A5, A4):
            page, scratch = _Page(font, bold_font, paper), _Page(font, bold_font, paper)
            _head(page, slip)
            scratch.y = 0.0
            _tail(scratch, slip)  # measured first: the list gets the room that is left
            if _documents(page, slip.documents, MARGIN - scratch.y, summarize=paper == A4):
                break
        _tail(page, slip)
        return page.write(slip)
    except CertifyError:
        raise
    except Exception as exc:
        raise AppointmentSlipError() from exc


def _when(t: dt.datetime) -> tuple[str, str]:
    t = t.astimezone(VN_TZ)
    month = (*_EN_MONTHS, *_EN_MONTHS_END)[t.month - 1]
    en = f"{t:%H:%M} on {_EN_DAYS[t.weekday()]}, {t.day} {month} {t.year}"
    return f"{t:%H:%M} {_VI_DAYS[t.weekday()]}, ngày {t:%d/%m/%Y}", en


class _Page:
    """Content-stream operators of one page, written top to bottom from ``y``."""

    def __init__(self, font: PreparedFont, bold: PreparedFont | None, paper: tuple[float, float]):
        self.font, self.bold, self.paper = font, bold or font, paper
        self.ops: list[bytes] = []
        self.w, self.y = paper[0] - 2 * MARGIN, paper[1] - MARGIN

    def text(self, s: str, size: float, style: str = "", x: float = 0, w: float = 0) -> None:
        """``s`` wrapped to at most 3 lines in the column ``x`` (from the margin), ``w`` wide."""
        f, res = (self.bold, b"/F2") if "b" in style else (self.font, b"/F1")
        x, w = MARGIN + x, w or self.w - x
        lines = wrap(f, s, size, w)
        if len(lines) > 3:  # bounded, so that the page always holds the slip
            lines = [*lines[:2], fit(f, " ".join(lines[2:]), size, w)]
        for line in lines:
            self.y -= size * LEADING
            base = self.y + size * 0.28
            if not line:
                continue
            if "c" in style:
                op = centered(f, res, size, x, w, base, line)
            else:
                op = text_op(f, res, size, x, base, line)
            self.ops.append(b"q 0.33 g %s Q" % op if "g" in style else op)
        if "u" in style or "v" in style:  # a letterhead's rules (NĐ 30/2020)
            lw = f.width(lines[-1], size) if "u" in style else w / 3
            self.rule(x + (w - lw) / 2, lw, self.y - 2, 0.5)

    def cols(self, *cells: tuple[float, float, Sequence[_Line]]) -> None:
        """Blocks of lines side by side, each ``(x, w, lines)``; ``y`` ends below the longest."""
        top = bottom = self.y
        for x, w, block in cells:
            self.y = top
            for s, size, style in block:
                self.text(s, size, style, x, w)
            bottom = min(bottom, self.y)
        self.y = bottom

    def rule(self, x: float, w: float, y: float, weight: float = 0.25) -> None:
        self.ops.append(b"q %s w %s %s m %s %s l S Q" % nums(weight, x, y, x + w, y))

    def box(self, top: float) -> None:
        self.y -= 5
        self.ops.append(b"q 0.8 w %s %s %s %s re S Q" % nums(MARGIN, self.y, self.w, top - self.y))

    def write(self, slip: AppointmentSlip) -> bytes:
        content = b"q 0 g 0 G\n" + b"\n".join(self.ops) + b"\nQ\n"
        stamp = generic.pdf_date(slip.received_at.astimezone(VN_TZ))
        info = generic.DictionaryObject(
            {
                pdf_name("/Title"): generic.TextStringObject(f"Phiếu hẹn {slip.request_code}"),
                pdf_name("/Creator"): generic.TextStringObject("certify"),
                pdf_name("/CreationDate"): stamp,
                pdf_name("/ModDate"): stamp,
            }
        )
        w = _FixedWriter(info, hashlib.sha256(content + repr(info).encode()).digest()[:16])
        w.root["/Lang"] = generic.TextStringObject("vi-VN")
        regular = self.font.embed(w)
        bold = self.bold.embed(w) if self.bold is not self.font else regular
        fonts = generic.DictionaryObject({pdf_name("/F1"): regular, pdf_name("/F2"): bold})
        stream = generic.StreamObject(stream_data=content)
        stream.compress()
        resources = generic.DictionaryObject({pdf_name("/Font"): fonts})
        w.insert_page(PageObject(w.add_object(stream), (0, 0, *self.paper), resources))
        out = io.BytesIO()
        w.write(out)
        return out.getvalue()


class _FixedWriter(PdfFileWriter):
    """pyHanko's writer with the /ID and /Info given: it would write random bytes and the
    clock's time, and the same slip would not give the same file."""

    def __init__(self, info: generic.DictionaryObject, document_id: bytes) -> None:
        super().__init__(info=info)
        self._document_id = generic.ArrayObject([generic.ByteStringObject(document_id)] * 2)

    def _update_meta(self) -> None:
        pass  # keep /Info as given (pyHanko would stamp /ModDate with the clock)


def _head(p: _Page, slip: AppointmentSlip) -> None:
    """Issuer left, national motto right (NĐ 30/2020), the title, the code, the requester."""
    mw = p.bold.width(MOTTO[0], 8.0) + 2
    issuer = [(slip.province_name.upper(), 8.0, "c"), (slip.authority_name.upper(), 8.0, "bcv")]
    p.cols((0, p.w - mw - 8, issuer), (p.w - mw, mw, [(MOTTO[0], 8, "bc"), (MOTTO[1], 8.5, "bcu")]))
    p.y -= 18
    p.cols((0, 0, [("PHIẾU HẸN TRẢ KẾT QUẢ", 15.0, "bc"), ("Appointment slip", 9.0, "gc")]))
    top = p.y = p.y - 10
    p.y -= 2
    p.text("Mã hồ sơ (xin ghi nhớ khi liên hệ) / Request code (quote it when you call)", EN, "c")
    p.text(
        slip.request_code, max(12, min(22, (p.w - 12) / p.bold.width(slip.request_code, 1))), "bc"
    )
    p.box(top)
    p.y -= 10
    _field(p, "Người yêu cầu: ", slip.requester_name, "Requester")


def _field(p: _Page, label: str, value: str, english: str) -> None:
    lw = p.font.width(label, 10.0)
    p.cols((0, lw, [(label, 10.0, "")]), (lw, p.w - lw, [(value, 10.0, "b")]))
    p.text(english, EN, "g")
    p.y -= 6


def _documents(p: _Page, docs: Sequence[tuple[str, int]], limit: float, *, summarize: bool) -> bool:
    """The originals, one row each, above ``limit``. Those that do not fit are summed up in
    one line if ``summarize``, else nothing is drawn and the answer is False."""
    nw = p.w - 64
    head = [("Giấy tờ nộp (bản chính)", 9.5, "b"), ("Originals received", EN, "g")]
    p.cols((0, nw, head), (nw, 64, [("Số bản sao", 9.5, "bc"), ("Copies", EN, "gc")]))
    limit += 9.0 * LEADING + 6  # the total line
    for i, (name, copies) in enumerate(docs):
        mark = len(p.ops), p.y
        p.rule(MARGIN, p.w, p.y - 1)
        p.y -= 2
        p.cols((0, nw - 6, [(f"{i + 1}. {name}", 9.5, "")]), (nw, 64, [(str(copies), 9.5, "c")]))
        p.y -= 2
        if p.y - (0 if i == len(docs) - 1 else (9.5 + EN) * LEADING + 4) < limit:
            del p.ops[mark[0] :]
            p.y = mark[1]
            if not summarize:
                return False
            rest, n = len(docs) - i, sum(c for _, c in docs[i:])
            p.rule(MARGIN, p.w, p.y - 1)
            p.y -= 2
            p.text(f"… và {rest} giấy tờ khác ({n} bản sao)", 9.5)
            p.text(f"… and {rest} more documents ({n} copies)", EN, "g")
            break
    p.rule(MARGIN, p.w, p.y - 1)
    p.y -= 4
    p.text(f"Tổng số bản sao / Total copies: {sum(c for _, c in docs)}", 9.0, "b")
    p.y -= 8
    return True


def _tail(p: _Page, slip: AppointmentSlip) -> None:
    """Reception, appointment, fee, the two signatures and a note."""
    received, received_en = _when(slip.received_at)
    _field(p, "Nhận hồ sơ lúc: ", received, f"Received at {received_en}")
    top = p.y
    p.y -= 2
    appointment, appointment_en = _when(slip.appointment_at)
    p.text(f"Hẹn trả kết quả lúc {appointment}", 11.0, "bc")
    p.text(f"Results ready for collection at {appointment_en}", 8.5, "gc")
    p.box(top)
    p.y -= 8
    if slip.fee:
        vnd = format_vnd(slip.fee)
        _field(p, "Lệ phí: ", f"{vnd} đồng", f"Fee: {vnd.replace('.', ',')} VND")
    elif slip.fee == 0:
        _field(p, "Lệ phí: ", "miễn", "Fee: none")
    p.y -= 4

    def signer(i: int, title: str, en: str, name: str) -> tuple[float, float, list[_Line]]:
        lines = [(title, 9, "bc"), ("(Ký, ghi rõ họ tên)", EN, "c"), (en, EN, "gc")]
        return i * p.w / 2, p.w / 2, [*lines, ("", 24, ""), (name, 10, "bc")]  # room to sign

    p.cols(
        signer(0, "NGƯỜI NỘP HỒ SƠ", "Requester (signature, full name)", slip.requester_name),
        signer(1, "NGƯỜI TIẾP NHẬN HỒ SƠ", "Received by (signature, full name)", slip.officer_name),
    )
    p.y -= 12
    p.text("Xin mang theo phiếu này khi đến nhận kết quả (NĐ 23/2015/NĐ-CP, điều 7).", EN, "c")
    p.text("Please bring this slip when you collect the results.", EN, "gc")
