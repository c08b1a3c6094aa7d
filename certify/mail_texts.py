"""The e-mails to citizens (issue 12): booked, originals received, an original refused, due
time extended, copies ready. Each function returns ``(subject, body)``: the subject
"Vietnamese / English" in at most 200 characters; the body plain text, Vietnamese first,
then the line "— English below —" and the English text.

Personal data: the requester's own name only; never the ID number, address or phone. The
body may hold download links, which are secrets (see ``certify.outbox_sender``). Times are
shown in Vietnam time (DOMAIN.md: UTC stored, Asia/Ho_Chi_Minh shown).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from certify.errors import InvalidInputError
from certify.ports import VN_TZ, DocumentEntry, ItemRecord, RequestRecord
from certify.refusal_grounds import REFUSAL_REASONS
from certify.tracking_codes import format_tracking_code

SEPARATOR: Final = "— English below —"
SUBJECT_MAX: Final = 200
_VI_DAYS: Final = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
_EN_DAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# NĐ 23/2015 art. 22 in general words, for a refusal whose ground is not (or no longer) listed.
_OTHER_GROUND: Final = (
    "Bản chính không đủ điều kiện để chứng thực bản sao (Điều 22 Nghị định 23/2015/NĐ-CP)",
    "The original does not meet the conditions for a certified copy (Decree 23/2015, art. 22)",
)


def _local(at: dt.datetime) -> dt.datetime:
    if at.utcoffset() is None:
        raise InvalidInputError(
            "Thời điểm phải có múi giờ. / A time must be timezone-aware.", code="naive_datetime"
        )
    return at.astimezone(VN_TZ)


def _when_vi(at: dt.datetime) -> str:
    local = _local(at)
    return f"{_VI_DAYS[local.weekday()]}, {local:%d/%m/%Y %H:%M} (giờ Việt Nam)"


def _when_en(at: dt.datetime) -> str:
    local = _local(at)
    return f"{_EN_DAYS[local.weekday()]}, {local:%d/%m/%Y %H:%M} (Vietnam time)"


def _one_line(text: str) -> str:
    # Names and notes come from forms: no line of theirs may break the mail's layout.
    return " ".join(text.split())


def _subject(request: RequestRecord, vi: str, en: str) -> str:
    code = _one_line(request.code)
    subject = f"{vi} – hồ sơ {code} / {en} – request {code}"
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    return subject


def _mail(subject: str, vi: list[str], en: list[str]) -> tuple[str, str]:
    return subject, "\n".join([*vi, "", SEPARATOR, "", *en]) + "\n"


def _opening(request: RequestRecord) -> tuple[list[str], list[str]]:
    name = _one_line(request.requester_name)
    return [f"Kính gửi ông/bà {name},", ""], [f"Dear {name},", ""]


def _codes(request: RequestRecord) -> tuple[list[str], list[str]]:
    vi, en = [f"Mã hồ sơ: {request.code}"], [f"Request code: {request.code}"]
    if request.tracking_code:  # as printed on the booking page, in groups of four
        code = format_tracking_code(request.tracking_code)
        vi.append(f"Mã tra cứu: {code}")
        en.append(f"Tracking code: {code}")
    return vi, en


def _closing(authority_name: str, tracking_url: str) -> tuple[list[str], list[str]]:
    authority = _one_line(authority_name)
    vi = [
        "",
        f"Theo dõi hồ sơ: {tracking_url}",
        "",
        authority,
        "Thư này được gửi tự động, xin đừng trả lời thư này.",
    ]
    en = [
        "",
        f"Follow your request: {tracking_url}",
        "",
        authority,
        "This e-mail was sent automatically; please do not reply to it.",
    ]
    return vi, en


def _originals(items: Sequence[ItemRecord]) -> tuple[list[str], list[str]]:
    vi, en = [], []
    for n, item in enumerate(items, start=1):
        name = _one_line(item.document_name)
        vi.append(f"  {n}. {name} ({item.pages} trang, {item.copies} bản sao)")
        pages = "page" if item.pages == 1 else "pages"
        copies = "copy" if item.copies == 1 else "copies"
        en.append(f"  {n}. {name} ({item.pages} {pages}, {item.copies} {copies})")
    return vi, en


def booked_mail(
    *,
    authority_name: str,
    request: RequestRecord,
    items: Sequence[ItemRecord],
    tracking_url: str,
) -> tuple[str, str]:
    """The booking's confirmation: the codes, what to bring, when the due time starts.

    Raises ``InvalidInputError`` (code ``naive_datetime``) for a naive time.
    """
    vi, en = _opening(request)
    authority = _one_line(authority_name)
    vi.append(f"{authority} đã nhận yêu cầu chứng thực bản sao điện tử của ông/bà.")
    en.append(f"{authority} has received your request for certified electronic copies.")
    codes_vi, codes_en = _codes(request)
    originals_vi, originals_en = _originals(items)
    vi += ["", *codes_vi, "", "Khi đến cơ quan, xin mang theo:", "- bản chính (bản giấy) của:"]
    vi += [*originals_vi, "- giấy tờ tùy thân (CCCD hoặc hộ chiếu) để đối chiếu."]
    en += ["", *codes_en, "", "When you come to the office, please bring:"]
    en += ["- the paper originals of:", *originals_en]
    en += ["- an identity document (citizen identity card, CCCD, or passport)."]
    vi += ["", "Thời hạn giải quyết được tính từ khi cơ quan nhận bản chính."]
    en += ["", "The time limit for handling the request starts when the originals are received."]
    close_vi, close_en = _closing(authority_name, tracking_url)
    subject = _subject(request, "Đã đặt lịch chứng thực bản sao", "Certified copy booked")
    return _mail(subject, vi + close_vi, en + close_en)


def received_mail(
    *,
    authority_name: str,
    request: RequestRecord,
    items: Sequence[ItemRecord],
    tracking_url: str,
) -> tuple[str, str]:
    """The originals were received: which ones (those still only booked are left out) and
    when the result is due (``request.deadline``), or that no due time was set.

    Raises ``InvalidInputError`` (code ``naive_datetime``) for a naive time.
    """
    vi, en = _opening(request)
    authority = _one_line(authority_name)
    received = [item for item in items if item.status != "booked"]
    originals_vi, originals_en = _originals(received)
    vi += [f"{authority} đã nhận bản chính của hồ sơ {request.code}:", *originals_vi, ""]
    en += [f"{authority} has received the originals of request {request.code}:"]
    en += [*originals_en, ""]
    deadline = request.deadline
    if deadline is None:
        vi.append("Hồ sơ không có giờ hẹn trả kết quả; cơ quan sẽ báo khi có kết quả.")
        en.append("No due time was set; you will be told when the result is ready.")
    else:
        vi.append(f"Hẹn trả kết quả: {_when_vi(deadline)}.")
        en.append(f"Result due: {_when_en(deadline)}.")
    vi.append("Bản sao điện tử sẽ được gửi cho ông/bà qua thư điện tử khi đã ký số.")
    en.append("The electronic copies will be e-mailed to you once signed.")
    close_vi, close_en = _closing(authority_name, tracking_url)
    subject = _subject(request, "Đã nhận bản chính", "Originals received")
    return _mail(subject, vi + close_vi, en + close_en)


def refused_mail(
    *,
    authority_name: str,
    request: RequestRecord,
    item: ItemRecord,
    tracking_url: str,
) -> tuple[str, str]:
    """An original was refused: which, on what ground (NĐ 23/2015 art. 22), the officer's
    note if any. Raises nothing."""
    vi, en = _opening(request)
    authority = _one_line(authority_name)
    name = _one_line(item.document_name)
    ground_vi, ground_en = REFUSAL_REASONS.get(item.refusal_code or "", _OTHER_GROUND)
    vi += [
        f"{authority} không chứng thực được bản sao từ bản chính “{name}” "
        f"của hồ sơ {request.code}.",
        f"Lý do: {ground_vi}.",
    ]
    en += [
        f"{authority} could not certify a copy of the original “{name}” of request {request.code}.",
        f"Ground: {ground_en}.",
    ]
    if item.refusal_note and item.refusal_note.strip():
        note = _one_line(item.refusal_note)
        vi.append(f"Ghi chú của cán bộ: {note}")
        en.append(f"The officer's note: {note}")
    vi += ["", "Các bản chính khác của hồ sơ (nếu có) vẫn được giải quyết."]
    en += ["", "Any other originals of the request are still being handled."]
    close_vi, close_en = _closing(authority_name, tracking_url)
    subject = _subject(request, "Bản chính bị từ chối chứng thực", "An original was refused")
    return _mail(subject, vi + close_vi, en + close_en)


def extended_mail(
    *,
    authority_name: str,
    request: RequestRecord,
    appointment: dt.datetime,
    tracking_url: str,
) -> tuple[str, str]:
    """The due time was extended to ``appointment`` (its day and hour, Vietnam time).

    Raises ``InvalidInputError`` (code ``naive_datetime``) for a naive appointment.
    """
    vi, en = _opening(request)
    authority = _one_line(authority_name)
    vi += [
        f"{authority} cần thêm thời gian để giải quyết hồ sơ {request.code}.",
        f"Thời hạn trả kết quả được gia hạn đến {_when_vi(appointment)}.",
        "Mong ông/bà thông cảm.",
    ]
    en += [
        f"{authority} needs more time to handle request {request.code}.",
        f"The due time has been extended to {_when_en(appointment)}.",
        "We apologise for the delay.",
    ]
    close_vi, close_en = _closing(authority_name, tracking_url)
    subject = _subject(request, "Gia hạn trả kết quả", "Due time extended")
    return _mail(subject, vi + close_vi, en + close_en)


def ready_mail(
    *,
    authority_name: str,
    request: RequestRecord,
    copies: Sequence[tuple[DocumentEntry, str, str]],
    expires_at: dt.datetime,
    tracking_url: str,
) -> tuple[str, str]:
    """The certified copies are ready: each ``(entry, download URL, verification URL)``
    with its register number; until when the links work and the copies can be downloaded
    again from the tracking page; that the verification link (the QR code on the copy)
    lets anyone check a copy.

    Raises ``InvalidInputError`` (code ``naive_datetime``) for a naive ``expires_at``.
    """
    until_vi, until_en = _when_vi(expires_at), _when_en(expires_at)
    vi, en = _opening(request)
    vi.append(f"Bản sao điện tử chứng thực từ bản chính của hồ sơ {request.code} đã được ký số:")
    en.append(f"The certified electronic copies of request {request.code} have been signed:")
    for n, (entry, download_url, verify_url) in enumerate(copies, start=1):
        name = _one_line(entry.document_name)
        vi += [
            "",
            f"  {n}. {name}",
            f"     Số chứng thực {entry.number} quyển số {entry.book}",
            f"     Tải về: {download_url}",
            f"     Kiểm tra: {verify_url}",
        ]
        en += [
            "",
            f"  {n}. {name}",
            f"     Certification no. {entry.number}, book no. {entry.book}",
            f"     Download: {download_url}",
            f"     Verify: {verify_url}",
        ]
    vi += [
        "",
        f"Liên kết tải về có hiệu lực đến {until_vi}. Đến lúc đó ông/bà cũng có thể tải lại "
        "bản sao từ trang theo dõi hồ sơ.",
        "Liên kết tải về chỉ dành cho ông/bà: xin đừng chia sẻ.",
        "Liên kết kiểm tra (mã QR in trên bản sao) cho phép bất kỳ ai kiểm tra bản sao là "
        "thật và còn hiệu lực.",
    ]
    en += [
        "",
        f"The download links work until {until_en}. Until then you can also download the "
        "copies again from the tracking page.",
        "The download links are for you only: please do not share them.",
        "The verification link (the QR code on the copy) lets anyone check that the copy is "
        "genuine and still valid.",
    ]
    close_vi, close_en = _closing(authority_name, tracking_url)
    subject = _subject(request, "Bản sao chứng thực đã sẵn sàng", "Certified copy ready")
    return _mail(subject, vi + close_vi, en + close_en)
