"""The words of the public pages, in Vietnamese and English.

TT 15/2025/TT-BKHCN: the verifier shows its result in Vietnamese. The pages show Vietnamese
first with English beside it; ``?lang=en`` puts English first for a foreign reader (and sets
``<html lang="en">``), Vietnamese still beside it. The domain's own texts (verdict headlines,
reasons) come in both languages from :mod:`certify.verdicts`; error messages come as
``"Vietnamese. / English."`` (:mod:`certify.errors`).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from certify.ports import VN_TZ

LANGUAGES: Final = ("vi", "en")
DEFAULT_LANGUAGE: Final = "vi"
# Times are stored in UTC and shown in Vietnamese time (STYLE.md, Typing).

# (Vietnamese, English), like certify.verdicts.HEADLINES.
Pair = tuple[str, str]

UI: Final[dict[str, Pair]] = {
    "service": ("Chứng thực bản sao điện tử", "Certified electronic copies"),
    "title": ("Kiểm tra bản sao điện tử chứng thực", "Verify a certified electronic copy"),
    "intro": (
        "Kiểm tra một bản sao điện tử được chứng thực từ bản chính: tải tệp PDF lên, hoặc "
        "nhập mã kiểm tra in dưới mã QR trên bản in.",
        "Check an electronic copy certified from an original: upload the PDF, or type the "
        "verification code printed under the QR code on a paper copy.",
    ),
    "upload_heading": ("Tải tệp PDF lên", "Upload the PDF"),
    "upload_label": ("Chọn tệp PDF của bản sao", "Choose the PDF file of the copy"),
    "upload_button": ("Kiểm tra tệp", "Check the file"),
    "code_heading": ("Nhập mã kiểm tra", "Type the verification code"),
    "code_label": ("Mã in dưới mã QR trên bản in", "Code printed under the QR code"),
    "code_hint": (
        "Có thể dán cả đường dẫn; khoảng trắng được bỏ qua.",
        "You may paste the whole link; spaces are ignored.",
    ),
    "code_button": ("Xem kết quả", "Show the result"),
    "or": ("hoặc", "or"),
    "error_heading": ("Chưa kiểm tra được", "Could not check"),
    "code_empty": ("Vui lòng nhập mã kiểm tra.", "Please type the verification code."),
    "code_invalid": (
        "Mã kiểm tra không đúng: mã gồm 16 đến 128 ký tự là chữ cái không dấu, chữ số, dấu "
        "gạch ngang (-) hoặc gạch dưới (_).",
        "This is not a verification code: a code is 16 to 128 letters (without accents), "
        "digits, hyphens (-) or underscores (_).",
    ),
    "result_label": ("Kết quả kiểm tra", "Verification result"),
    "reasons": ("Lý do", "Reasons"),
    "register": ("Thông tin trong sổ chứng thực", "Register entry"),
    "register_not_this_file": (
        "Đây là thông tin của bản sao đã cấp mà tệp này bắt nguồn từ đó; bản thân tệp này "
        "không phải bản sao đã được chứng thực.",
        "This is the entry of the issued copy this file began as; the file itself is not "
        "the certified copy as issued.",
    ),
    "authority": ("Cơ quan chứng thực", "Certifying authority"),
    "province": ("Tỉnh, thành phố", "Province"),
    "document": ("Tên giấy tờ", "Document"),
    "number": ("Số chứng thực", "Certification number"),
    "book": ("Quyển số", "Register book"),
    "issued_on": ("Ngày chứng thực", "Date of certification"),
    "pages": ("Số trang", "Pages"),
    "copies": ("Số bản sao", "Copies"),
    "copy_sha256": ("Mã băm SHA-256 của bản sao", "SHA-256 of the copy"),
    "status": ("Tình trạng", "Status"),
    "status_issued": ("Đang có hiệu lực", "In force"),
    "status_cancelled": ("Đã bị huỷ", "Cancelled"),
    "cancelled_on": ("Ngày huỷ", "Cancelled on"),
    "cancelled_reason": ("Lý do huỷ", "Reason for cancellation"),
    "certifier": ("Người thực hiện chứng thực", "Certified by"),
    "signatures": ("Chữ ký số", "Digital signatures"),
    "no_signatures": ("Tệp không có chữ ký số nào.", "The file carries no digital signature."),
    "role": ("Vai trò", "Role"),
    "organisation": ("Tổ chức", "Organisation"),
    "issuer": ("Chứng thư số do", "Certificate issued by"),
    "signing_time": ("Thời điểm ký (theo dấu thời gian)", "Time of signing (time-stamped)"),
    "no_timestamp": ("Không có dấu thời gian tin cậy", "No trusted time-stamp"),
    "claimed_time": (
        "Người ký tự ghi (không phải bằng chứng)",
        "Claimed by the signer (not proof)",
    ),
    "tsa": ("Đơn vị cấp dấu thời gian", "Time-stamp authority"),
    "archive_chain": ("Chuỗi dấu thời gian lưu trữ", "Archive time-stamp chain"),
    "archive_chain_note": (
        "Bản sao được lưu giữ lâu dài: trước khi chứng thư của đơn vị cấp dấu thời gian hết"
        " hạn, dữ liệu kiểm tra mới nhất và một dấu thời gian mới được thêm vào (PAdES B-LTA).",
        "The copy is kept for the long term: before the time-stamp authority's certificate"
        " ends, the current validation data and a new time-stamp are added (PAdES B-LTA).",
    ),
    "archive_issued": ("Khi cấp bản sao", "At issue"),
    "archive_renewal": ("Gia hạn lưu trữ", "Archive renewal"),
    "archive_valid": ("hợp lệ", "valid"),
    "archive_invalid": ("không hợp lệ", "not valid"),
    "stored_version": ("Phiên bản lưu trữ", "Stored version"),
    "stored_version_issued": ("bản sao như khi cấp", "the copy as issued"),
    "stored_version_renewed": ("sau lần gia hạn lưu trữ thứ", "after archive renewal no."),
    "certificate_status": ("Chứng thư số tại thời điểm ký", "Certificate at the time of signing"),
    "integrity": ("Tính toàn vẹn", "Integrity"),
    "signature_details": (
        "Chi tiết chứng thư số và dấu thời gian",
        "Certificate and time-stamp details",
    ),
    "trust": ("Độ tin cậy", "Trust"),
    "indication": ("Kết luận theo ETSI EN 319 102-1", "ETSI EN 319 102-1 indication"),
    "intact_yes": (
        "Nguyên vẹn: nội dung đã ký không bị thay đổi",
        "Intact: the signed content is unchanged",
    ),
    "intact_no": (
        "Không nguyên vẹn: nội dung đã ký bị thay đổi",
        "Not intact: the signed content was changed",
    ),
    "trusted_yes": (
        "Được tin cậy: chứng thư số dẫn tới chứng thư gốc tin cậy",
        "Trusted: the certificate chains to a trusted root",
    ),
    "trusted_no": (
        "Không được tin cậy: chứng thư số không dẫn tới chứng thư gốc tin cậy",
        "Not trusted: the certificate does not chain to a trusted root",
    ),
    "technical": ("Thông tin kỹ thuật", "Technical details"),
    "pades_level": ("Mức chữ ký PAdES (ETSI EN 319 142-1)", "PAdES level (ETSI EN 319 142-1)"),
    "none": ("Không có", "None"),
    "file_sha256": ("Mã băm SHA-256 của tệp đã kiểm tra", "SHA-256 of the file checked"),
    "stored_copy": (
        "Tệp đã kiểm tra là bản sao lưu cùng sổ chứng thực.",
        "The file checked is the copy kept with the register entry.",
    ),
    "checked_at": ("Thời điểm kiểm tra", "Checked at"),
    "report": (
        "Tải báo cáo kiểm tra (ETSI TS 119 102-2, XML)",
        "Download the validation report (ETSI TS 119 102-2, XML)",
    ),
    "check_another": ("Kiểm tra bản sao khác", "Check another copy"),
    "footer": (
        "Trang kiểm tra công khai: không cần đăng nhập. Không hiển thị thông tin của người yêu "
        "cầu chứng thực.",
        "Public verification page: no login needed. Nothing about the person who requested "
        "the copy is shown.",
    ),
}

# Short verdict labels for the banner: the verdict in words, so that colour is never the only
# signal (WCAG 2.2 SC 1.4.1).
VERDICT_LABELS: Final[dict[str, Pair]] = {
    "genuine": ("Hợp lệ", "Genuine"),
    "cancelled": ("Đã bị huỷ", "Cancelled"),
    "modified": ("Đã bị thay đổi", "Modified"),
    "untrusted": ("Không được tin cậy", "Untrusted"),
    "unknown": ("Không rõ nguồn gốc", "Unknown"),
    "invalid": ("Chữ ký không hợp lệ", "Invalid"),
    "unreadable": ("Không đọc được", "Unreadable"),
}

ROLES: Final[dict[str, Pair]] = {
    "certifier": ("Người thực hiện chứng thực", "Certifier"),
    "seal": ("Con dấu cơ quan", "Authority seal"),
    "timestamp": ("Dấu thời gian", "Time-stamp"),
    "other": ("Chữ ký khác", "Other signature"),
}

CERTIFICATE_STATUS: Final[dict[str, Pair]] = {
    "good": ("Còn hiệu lực, chưa bị thu hồi", "Valid, not revoked"),
    "revoked": ("Đã bị thu hồi", "Revoked"),
    "expired": ("Đã hết hạn", "Expired"),
    "unknown": ("Không xác định được", "Could not be determined"),
}


def language(value: str | None) -> str:
    """The page language asked for (``?lang=``), Vietnamese unless English is asked for."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def split_message(message: str) -> Pair:
    """A ``"Vietnamese. / English."`` error message as its two halves (the same text twice
    when it is in one language only)."""
    vi, sep, en = message.partition(" / ")
    return (vi.strip(), en.strip()) if sep else (message, message)


def role(name: str) -> Pair:
    return ROLES.get(name, ROLES["other"])


def certificate_status(name: str) -> Pair:
    return CERTIFICATE_STATUS.get(name, CERTIFICATE_STATUS["unknown"])


def vn_date(value: dt.date) -> str:
    """dd/mm/yyyy, as Vietnamese documents write a date."""
    return value.strftime("%d/%m/%Y")


def vn_time(value: dt.datetime) -> str:
    """An aware time in Vietnamese time: ``dd/mm/yyyy HH:MM:SS (GMT+7)``."""
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S (GMT+7)")
