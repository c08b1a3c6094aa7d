"""The words of the citizens' pages (issue 12) and of the desk's citizen parts, in Vietnamese
and English, and how those pages write amounts, times and shares.

As everywhere (:mod:`api.i18n`): Vietnamese first with English beside it; ``?lang=en`` puts
English first. Error messages come as ``"Vietnamese. / English."`` from
:mod:`certify.errors` and are split with :func:`api.i18n.split_message`.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from api.i18n import Pair
from certify.ports import VN_TZ

WORDS: Final[dict[str, Pair]] = {
    # The layout's footer on these pages (base.html shows ``T.footer``).
    "footer": (
        "Trang dành cho người yêu cầu chứng thực. Mã tra cứu là của riêng bạn: hãy giữ kín.",
        "Pages for people who ask for certified copies. Your tracking code is yours alone: "
        "keep it private.",
    ),
    # Booking (citizen/book.html, citizen/booked.html).
    "book_title": ("Đặt trước hồ sơ chứng thực bản sao", "Book a certified copy"),
    "book_intro": (
        "Khai trước các bản chính cần chứng thực. Bạn nhận được một mã tra cứu; khi đến cơ "
        "quan, hãy mang bản chính và đưa mã này cho cán bộ. Thời hạn giải quyết tính từ lúc "
        "cán bộ nhận bản chính.",
        "List the originals you want certified. You get a tracking code; at the office, "
        "bring the originals and show this code. The time limit starts when the officer "
        "receives the originals.",
    ),
    "authority": ("Cơ quan chứng thực", "Certifying office"),
    "authority_choose": ("— Chọn cơ quan —", "— Choose an office —"),
    "requester_name": ("Họ và tên người yêu cầu", "Requester's full name"),
    "email": ("Thư điện tử", "E-mail address"),
    "email_hint": (
        "Kết quả và đường dẫn tải bản sao được gửi đến địa chỉ này.",
        "The result and the copy's download link are sent to this address.",
    ),
    "phone": ("Số điện thoại (không bắt buộc)", "Phone number (optional)"),
    "originals": ("Các bản chính", "The originals"),
    "originals_hint": (
        "Mỗi dòng một bản chính; để trống các dòng không dùng.",
        "One original per line; leave unused lines empty.",
    ),
    "original_n": ("Bản chính", "Original"),
    "document_name": ("Tên giấy tờ", "Document"),
    "pages": ("Số trang (ước tính)", "Pages (about)"),
    "copies": ("Số bản sao", "Copies"),
    "book_button": ("Đặt trước", "Book"),
    "privacy": (
        "Thông tin cá nhân chỉ dùng để giải quyết hồ sơ này; chỉ người giữ mã tra cứu và cán "
        "bộ của cơ quan xem được.",
        "Your personal data is used for this request only; only the holder of the tracking "
        "code and the office's officers can see it.",
    ),
    "form_error": ("Chưa đặt được hồ sơ", "The booking was not made"),
    "field_missing": ("Vui lòng điền trường này.", "Please fill in this field."),
    "field_invalid": ("Giá trị không hợp lệ.", "This value is not valid."),
    "email_invalid": ("Địa chỉ thư điện tử không hợp lệ.", "The e-mail address is not valid."),
    "booked_title": ("Đã đặt trước hồ sơ", "Your request is booked"),
    "tracking_code": ("Mã tra cứu", "Tracking code"),
    "keep_code": (
        "Hãy giữ kín mã này: ai có mã đều xem được hồ sơ của bạn. Mã cũng đã được gửi đến "
        "thư điện tử của bạn.",
        "Keep this code private: whoever has it can see your request. It was also sent to "
        "your e-mail address.",
    ),
    "qr_of_code": ("Mã QR của trang tra cứu hồ sơ", "QR code of the request's tracking page"),
    "bring": ("Khi đến cơ quan, hãy mang theo", "When you come to the office, bring"),
    "open_tracking": ("Xem tình trạng hồ sơ", "Follow the request"),
    "estimated_fee": ("Lệ phí dự kiến", "Estimated fee"),
    # Tracking (citizen/tracking.html).
    "tracking_title": ("Tình trạng hồ sơ", "Request status"),
    "request_code": ("Số hồ sơ", "Request number"),
    "state": ("Tình trạng", "Status"),
    "received_at": ("Nhận hồ sơ lúc", "Received"),
    "due_at": ("Hẹn trả kết quả", "Due"),
    "extended": ("đã gia hạn", "extended"),
    "not_received": ("Chưa nhận bản chính", "Originals not received yet"),
    "fee": ("Lệ phí", "Fee"),
    "fee_estimated_hint": (
        "ước tính theo số trang khai; lệ phí chính thức tính khi quét bản chính",
        "estimated from the pages declared; the final fee is set when the originals are scanned",
    ),
    "payment": ("Thanh toán", "Payment"),
    "paid_amount": ("Đã nộp", "Paid"),
    "pay_title": ("Nộp lệ phí bằng chuyển khoản", "Pay the fee by bank transfer"),
    "pay_hint": (
        "Quét mã VietQR bằng ứng dụng ngân hàng; số tiền và nội dung đã điền sẵn. Trang này "
        "cập nhật khi ngân hàng xác nhận.",
        "Scan the VietQR code with your banking app; the amount and reference are filled "
        "in. This page shows the payment once the bank confirms it.",
    ),
    "qr_pay": ("Mã VietQR để nộp lệ phí", "VietQR code to pay the fee"),
    "amount": ("Số tiền", "Amount"),
    "account_name": ("Chủ tài khoản", "Account name"),
    "account_number": ("Số tài khoản", "Account number"),
    "bank_bin": ("Mã ngân hàng (BIN)", "Bank (BIN)"),
    "reference": ("Nội dung chuyển khoản", "Transfer reference"),
    "pay_at_office": (
        "Vui lòng nộp lệ phí tại cơ quan khi đến nhận hoặc liên hệ cơ quan.",
        "Please pay the fee at the office, or contact the office.",
    ),
    "no_fee": ("Cơ quan này miễn lệ phí.", "This office charges no fee."),
    "receipt_link": ("Xem biên lai thu phí", "See the fee receipt"),
    "originals_state": ("Các bản chính và tình trạng", "The originals and their status"),
    "refusal_ground": ("Lý do từ chối", "Ground of refusal"),
    "refusal_note": ("Ghi chú của cán bộ", "The officer's note"),
    "copies_title": ("Bản sao điện tử", "Electronic copies"),
    "download": ("Tải bản sao (PDF)", "Download the copy (PDF)"),
    "verify_copy": ("Kiểm tra bản sao", "Verify the copy"),
    "download_until": ("Tải được đến", "Downloadable until"),
    "download_expired": (
        "Thời hạn tải bản sao đã hết; hãy liên hệ cơ quan để được cấp lại đường dẫn.",
        "The download period has ended; ask the office for a new link.",
    ),
    "copy_number": ("Số chứng thực", "Register number"),
    "progress": ("Các bước", "Steps"),
    # The states a citizen is shown (certify.citizens.STATES).
    "state_booked": ("Đã đặt trước, chờ mang bản chính đến", "Booked: bring the originals"),
    "state_received": ("Đã nhận, đang giải quyết", "Received: in progress"),
    "state_certified": ("Đã chứng thực", "Certified"),
    "state_refused": ("Bị từ chối", "Refused"),
    "state_ready": ("Sẵn sàng tải về", "Ready to download"),
    "state_delivered": ("Đã tải về", "Downloaded"),
    "state_cancelled": ("Đã huỷ", "Cancelled"),
    "step_booked": ("Đăng ký hồ sơ", "Request made"),
    "step_received": ("Tiếp nhận", "Received"),
    "step_certified": ("Chứng thực", "Certified"),
    "step_ready": ("Sẵn sàng", "Ready"),
    "step_delivered": ("Đã nhận bản sao", "Delivered"),
    # An original's status.
    "item_booked": ("Chờ mang đến", "To be brought"),
    "item_received": ("Đã nhận", "Received"),
    "item_checked": ("Đã kiểm tra", "Checked"),
    "item_scanned": ("Đang chứng thực", "Being certified"),
    "item_certified": ("Đã chứng thực", "Certified"),
    "item_refused": ("Bị từ chối", "Refused"),
    # Payment states (certify.citizens.Tracking.payment_state) and methods.
    "pay_waived": ("Miễn lệ phí", "No fee"),
    "pay_pending": ("Chưa tính xong lệ phí", "Fee not final yet"),
    "pay_unpaid": ("Chưa nộp", "Not paid"),
    "pay_paid": ("Đã nộp", "Paid"),
    "pay_none": ("Không phải nộp", "Nothing to pay"),
    "method_transfer": ("Chuyển khoản", "Bank transfer"),
    "method_card": ("Thẻ", "Card"),
    "method_cash": ("Tiền mặt", "Cash"),
    # The receipt (citizen/receipt.html).
    "receipt_title": ("Biên lai thu phí chứng thực", "Receipt for the certification fee"),
    "receipt_print": (
        "Dùng chức năng In của trình duyệt để in hoặc lưu thành PDF.",
        "Use your browser's Print to print it or save it as PDF.",
    ),
    "paid_at": ("Ngày nộp", "Date"),
    "method": ("Hình thức", "Method"),
    "total": ("Tổng cộng", "Total"),
    "requester": ("Người nộp", "Paid by"),
    "back_to_tracking": ("Quay lại trang tra cứu", "Back to the request"),
    # The refusal page (citizen/refused.html).
    "refused_title": ("Không tìm thấy hồ sơ", "No such request"),
    "refused_body": (
        "Mã tra cứu này không đúng, hoặc trang này không còn dùng được.",
        "This tracking code is wrong, or this page is no longer available.",
    ),
    "refused_hint": (
        "Kiểm tra lại mã in trên phiếu hoặc trong thư điện tử, hoặc liên hệ cơ quan đã nhận hồ sơ.",
        "Check the code printed on your slip or in the e-mail, or ask the office that "
        "received the request.",
    ),
    "too_many": (
        "Quá nhiều yêu cầu; hãy thử lại sau ít phút.",
        "Too many requests; please try again in a few minutes.",
    ),
    # The public measure (citizen/measure.html).
    "measure_title": ("Kết quả giải quyết hồ sơ chứng thực", "Certification results"),
    "measure_intro": (
        "Số hồ sơ theo tháng tiếp nhận: \u201chai không\u201d: không phải quay lại nhận "
        "kết quả, không dùng tiền mặt; và không có hồ sơ quá hạn. Không có thông tin cá nhân.",
        "Requests by the month they were received: the \u201ctwo no's\u201d: no coming back "
        "for the result, no cash; and no request overdue. No personal data.",
    ),
    "measure_of_authority": ("Theo cơ quan", "By office"),
    "measure_of_province": ("Toàn tỉnh", "Whole province"),
    "province": ("Tỉnh, thành phố", "Province"),
    "year": ("Năm", "Year"),
    "show": ("Xem", "Show"),
    "month": ("Tháng", "Month"),
    "col_received": ("Tiếp nhận", "Received"),
    "col_certified": ("Đã chứng thực", "Certified"),
    "col_refused": ("Từ chối", "Refused"),
    "col_delivered": ("% trả qua mạng", "% delivered online"),
    "col_cashless": ("% không dùng tiền mặt", "% paid without cash"),
    "col_on_time": ("Đúng hạn", "On time"),
    "col_overdue": ("Quá hạn", "Overdue"),
    "col_open": ("Đang giải quyết", "Open"),
    "measure_empty": ("Chưa có hồ sơ nào trong năm này.", "No request in this year yet."),
    "measure_choose": (
        "Chọn một cơ quan hoặc một tỉnh để xem số liệu.",
        "Choose an office or a province to see the figures.",
    ),
    "measure_unknown": ("Không có cơ quan hoặc tỉnh này.", "There is no such office or province."),
    # The desk's citizen parts (desk/queue.html, desk/request.html).
    "desk_booking_title": ("Nhận hồ sơ đặt trước", "Receive a booking"),
    "desk_booking_hint": (
        "Nhập mã tra cứu công dân đưa (hoặc quét mã QR), đối chiếu bản chính và giấy tờ tuỳ "
        "thân, rồi nhập số định danh. Thời hạn giải quyết bắt đầu từ lúc này.",
        "Type the tracking code the citizen shows (or scan its QR code), check the originals "
        "and the identity paper, then type the ID number. The time limit starts now.",
    ),
    "desk_booking_code": ("Mã tra cứu", "Tracking code"),
    "desk_id_number": ("Số định danh cá nhân / CCCD", "Personal ID number"),
    "desk_booking_button": ("Nhận hồ sơ", "Receive"),
    "desk_citizen_title": ("Công dân theo dõi hồ sơ", "The citizen's tracking"),
    "desk_citizen_hint": (
        "Đưa công dân mã này (hoặc cho quét mã QR) để theo dõi hồ sơ và nhận bản sao qua mạng.",
        "Give the citizen this code (or let them scan the QR code) to follow the request and "
        "receive the copy online.",
    ),
    "desk_payment_title": ("Ghi nhận thu phí", "Record a payment"),
    "desk_payment_hint": (
        "Ghi nhận khoản lệ phí công dân đã nộp tại quầy.",
        "Record a fee the citizen paid at the desk.",
    ),
    "desk_payment_button": ("Ghi nhận", "Record"),
    "desk_payment_done": ("Đã ghi nhận khoản thu.", "The payment is recorded."),
    "due_amount": ("Còn phải nộp", "Still due"),
}

# The steps of the progress line (a refused or cancelled request stops where it is).
STEPS: Final = ("booked", "received", "certified", "ready", "delivered")


def when(value: dt.datetime | None) -> str:
    """A time as the citizen's pages show it: ``dd/mm/yyyy HH:MM`` in Vietnam, or a dash."""
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if value else "—"


def day(value: dt.datetime) -> str:
    """The day of a time, in Vietnam: ``dd/mm/yyyy``."""
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y")


def vnd(amount: int) -> str:
    """An amount in đồng as Vietnamese writes it: dots between thousands, ``10.000 đ``."""
    return f"{amount:,}".replace(",", ".") + " đ"


def percent(share: float | None) -> str:
    """A share as a whole percentage (``75 %``), or a dash when there is nothing to share."""
    return "—" if share is None else f"{round(share * 100)} %"


def method(name: str) -> Pair:
    """A payment method in words."""
    return WORDS.get(f"method_{name}", (name, name))
