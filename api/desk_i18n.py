"""The words of the desk pages (the officers' side), in Vietnamese and English.

As on the public pages (:mod:`api.i18n`): Vietnamese first with English beside it, and
``?lang=en`` puts English first (remembered in the ``certify_lang`` cookie, see
:mod:`api.sessions`). Each later desk page adds its words to ``WORDS``; error messages come as
``"Vietnamese. / English."`` from :mod:`certify.errors` and are split with
:func:`api.i18n.split_message`.
"""

from __future__ import annotations

from typing import Final

from api.i18n import Pair

WORDS: Final[dict[str, Pair]] = {
    # The layout (desk/base.html).
    "service": ("Chứng thực bản sao điện tử", "Certified electronic copies"),
    "desk": ("Bàn làm việc", "Desk"),
    "skip": ("Chuyển đến nội dung chính", "Skip to the content"),
    "nav": ("Các mục của bàn làm việc", "Desk sections"),
    "nav_queue": ("Hàng chờ", "Queue"),
    "nav_receive": ("Tiếp nhận", "Receive"),
    "nav_register": ("Sổ", "Register"),
    "nav_admin": ("Quản trị", "Admin"),
    "nav_totp": ("Mã xác thực", "Authenticator"),
    "signed_in_as": ("Đang đăng nhập", "Signed in as"),
    "logout": ("Đăng xuất", "Log out"),
    "footer": (
        "Trang dành cho cán bộ của cơ quan chứng thực. Mọi thao tác đều được ghi nhật ký.",
        "For the officers of the certifying authority. Every action is recorded.",
    ),
    # Login (desk/login.html).
    "login_title": ("Đăng nhập", "Log in"),
    "login_intro": (
        "Đăng nhập bằng tên đăng nhập và mật khẩu do quản trị viên cấp.",
        "Log in with the username and password your administrator gave you.",
    ),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "login_button": ("Đăng nhập", "Log in"),
    "login_refused": ("Chưa đăng nhập được", "Could not log in"),
    "session_expired": ("Phiên làm việc đã hết hạn", "Your session has expired"),
    "session_expired_hint": (
        "Vui lòng đăng nhập lại để tiếp tục.",
        "Please log in again to continue.",
    ),
    "logged_out": ("Đã đăng xuất.", "You have logged out."),
    "login_failed": (
        "Sai tên đăng nhập hoặc mật khẩu.",
        "Wrong username or password.",
    ),
    "form_expired": (
        "Biểu mẫu đã cũ hoặc không hợp lệ; hãy thử lại.",
        "The form was out of date or invalid; please try again.",
    ),
    # TOTP enrolment (desk/totp.html).
    "totp_title": ("Ứng dụng xác thực (TOTP)", "Authenticator app (TOTP)"),
    "totp_intro": (
        "Khi thực hiện chứng thực, hệ thống hỏi mã 6 chữ số từ ứng dụng xác thực trên điện "
        "thoại của bạn, để phiên đăng nhập bị đánh cắp cũng không ký được.",
        "When you certify, the service asks for the 6-digit code of the authenticator app on "
        "your phone, so that a stolen login session cannot sign.",
    ),
    "totp_enrolled": (
        "Bạn đã đăng ký ứng dụng xác thực. Có thể thay bằng một mã mới dưới đây.",
        "Your authenticator app is enrolled. You may replace it with a new one below.",
    ),
    "totp_not_enrolled": (
        "Bạn chưa đăng ký ứng dụng xác thực.",
        "You have not enrolled an authenticator app yet.",
    ),
    "totp_done": (
        "Đã lưu ứng dụng xác thực. Từ nay hệ thống sẽ hỏi mã khi chứng thực.",
        "The authenticator app is saved. The service will ask for its code when you certify.",
    ),
    "totp_step_scan": (
        "1. Quét mã QR bằng ứng dụng xác thực (hoặc nhập khoá bí mật bên dưới).",
        "1. Scan the QR code with your authenticator app (or type the secret key below).",
    ),
    "totp_qr_alt": ("Mã QR để đăng ký ứng dụng xác thực", "QR code to enrol the authenticator"),
    "totp_secret": ("Khoá bí mật", "Secret key"),
    "totp_step_confirm": (
        "2. Xác nhận bằng mật khẩu và mã ứng dụng đang hiển thị.",
        "2. Confirm with your password and the code the app shows.",
    ),
    "totp_current_code": (
        "Mã của ứng dụng xác thực đang dùng",
        "Code of the authenticator app in use now",
    ),
    "totp_new_code": ("Mã 6 chữ số của ứng dụng mới", "6-digit code of the new app"),
    "totp_button": ("Lưu ứng dụng xác thực", "Save the authenticator app"),
    "totp_wrong_code": (
        "Mã 6 chữ số không đúng; chưa lưu gì. Hãy nhập mã đang hiển thị trên ứng dụng.",
        "Wrong 6-digit code; nothing was saved. Type the code the app shows now.",
    ),
    "totp_refused": (
        "Sai mật khẩu hoặc mã của ứng dụng đang dùng; chưa lưu gì.",
        "Wrong password or code of the app in use; nothing was saved.",
    ),
    # Errors (desk/error.html).
    "error_title": ("Không thực hiện được", "Could not be done"),
    "error_code": ("Mã lỗi", "Error code"),
    "back_to_desk": ("Về bàn làm việc", "Back to the desk"),
    # The queue (desk/queue.html).
    "queue_title": ("Hàng chờ hồ sơ", "Request queue"),
    "queue_open": ("Hồ sơ đang giải quyết", "Open requests"),
    "queue_intro": (
        "Hạn sớm nhất ở trên cùng; hồ sơ quá hạn được ghi rõ “Quá hạn”.",
        "Soonest deadline first; overdue requests say “Overdue”.",
    ),
    "queue_empty": ("Không có hồ sơ nào đang chờ.", "No open requests."),
    "new_request_button": ("Tiếp nhận hồ sơ mới", "Receive a new request"),
    "count_received": ("Hồ sơ tiếp nhận", "Requests received"),
    "count_certified": ("Bản chính đã chứng thực", "Originals certified"),
    "count_refused": ("Bản chính bị từ chối", "Originals refused"),
    "count_on_time": ("Giải quyết đúng hạn", "Finished on time"),
    "count_overdue": ("Quá hạn", "Overdue"),
    "no_overdue": ("Không có hồ sơ quá hạn.", "No overdue requests."),
    "col_code": ("Mã hồ sơ", "Request"),
    "col_received": ("Tiếp nhận lúc", "Received"),
    "col_deadline": ("Hạn trả kết quả", "Due"),
    "col_originals": ("Bản chính", "Originals"),
    "overdue_tag": ("Quá hạn", "Overdue"),
    "extended_tag": ("Đã gia hạn", "Extended"),
    "no_deadline": ("Chưa có hạn", "No due time"),
    # Statuses: an original, a request, an issued copy.
    "item_booked": ("Đặt trước, chưa nộp bản chính", "Booked, original not yet brought"),
    "item_received": ("Chờ kiểm tra", "To be checked"),
    "item_checked": ("Đã kiểm tra, chờ quét", "Checked, to be scanned"),
    "item_scanned": ("Đã quét, chờ chứng thực", "Scanned, to be certified"),
    "item_certified": ("Đã chứng thực", "Certified"),
    "item_refused": ("Từ chối", "Refused"),
    "req_booked": ("Đặt trước trực tuyến", "Booked online"),
    "req_received": ("Đang giải quyết", "Open"),
    "req_certified": ("Đã giải quyết", "Done"),
    "req_refused": ("Bị từ chối", "Refused"),
    "doc_issued": ("Có hiệu lực", "Valid"),
    "doc_cancelled": ("Đã huỷ", "Cancelled"),
    # Receiving (desk/receive.html).
    "receive_title": ("Tiếp nhận hồ sơ", "Receive a request"),
    "receive_intro": (
        "Nhập người yêu cầu và mỗi bản chính một dòng. Hạn trả kết quả được tính tự động "
        "(trong ngày; sau 15 giờ thì ngày làm việc tiếp theo).",
        "Enter the requester and one line per original. The due time is computed (the same "
        "day; after 15:00 the next working day).",
    ),
    "receive_clerk_only": (
        "Chỉ cán bộ tiếp nhận (vai trò “clerk”) mới tiếp nhận được hồ sơ.",
        "Only a clerk can receive a request.",
    ),
    "requester_heading": ("Người yêu cầu", "Requester"),
    "requester_name": ("Họ và tên", "Full name"),
    "requester_id": ("Số giấy tờ tuỳ thân (CCCD, hộ chiếu)", "ID number (ID card, passport)"),
    "requester_contact": (
        "Liên hệ: điện thoại hoặc e-mail (không bắt buộc)",
        "Contact: phone or e-mail (optional)",
    ),
    "requester_contact_short": ("Liên hệ", "Contact"),
    "originals_heading": ("Bản chính", "Originals"),
    "originals_hint": (
        "Mỗi giấy tờ một dòng; dòng để trống được bỏ qua.",
        "One document per line; blank lines are ignored.",
    ),
    "document_name": ("Tên giấy tờ", "Document"),
    "pages": ("Số trang", "Pages"),
    "copies": ("Số bản sao", "Copies"),
    "more_lines": ("Thêm dòng", "More lines"),
    "more_lines_hint": ("mở lại biểu mẫu trống", "opens a blank form again"),
    "receive_button": ("Tiếp nhận hồ sơ", "Receive the request"),
    # A request (desk/request.html).
    "request_title": ("Hồ sơ", "Request"),
    "back_to_queue": ("Hàng chờ", "Queue"),
    "times_heading": ("Thời hạn", "Times"),
    "extended_to": ("Gia hạn đến", "Extended to"),
    "total_fee": ("Tổng lệ phí", "Total fee"),
    "overdue_notice": (
        "Hồ sơ đã quá hạn trả kết quả.",
        "This request is past its due time.",
    ),
    "warnings_heading": ("Lưu ý khi tiếp nhận bản quét", "Notes from the scan's intake"),
    "declared": ("Khai khi tiếp nhận", "As received"),
    "checked_by": ("Người kiểm tra", "Checked by"),
    "refusal": ("Lý do từ chối", "Refused because"),
    "scan_pages": ("Số trang đã quét", "Pages scanned"),
    "fee": ("Lệ phí", "Fee"),
    "fee_hint": ("(Thông tư 226/2016/TT-BTC)", "(TT 226/2016/TT-BTC)"),
    "open_copy": ("Mở bản sao đã cấp", "Open the issued copy"),
    "check_hint": (
        "Xác nhận đã đối chiếu bản chính giấy tờ với yêu cầu.",
        "Confirm that you compared the paper original with the request.",
    ),
    "check_button": ("Đã kiểm tra bản chính", "Original checked"),
    "scan_label": (
        "Các trang quét, theo thứ tự (JPEG, PNG, TIFF hoặc PDF chỉ chứa ảnh)",
        "The scanned pages, in order (JPEG, PNG, TIFF or an image-only PDF)",
    ),
    "scan_replace_hint": (
        "Tải lên lần nữa sẽ thay bản quét hiện có.",
        "A new upload replaces the current scan.",
    ),
    "scan_button": ("Tải bản quét lên", "Upload the scan"),
    "pages_heading": ("Các trang đã quét", "Scanned pages"),
    "certify_heading": ("Chứng thực", "Certify"),
    "certify_hint": (
        "Xem lại các trang và lệ phí, rồi nhập mã 6 chữ số của ứng dụng xác thực để ký.",
        "Review the pages and the fee, then type your authenticator's 6-digit code to sign.",
    ),
    "totp_code": ("Mã xác thực (6 chữ số)", "Authentication code (6 digits)"),
    "certify_button": ("Ký và chứng thực", "Sign and certify"),
    "refuse_summary": ("Từ chối bản chính này…", "Refuse this original…"),
    "refuse_ground": (
        "Lý do (Điều 22 Nghị định 23/2015/NĐ-CP)",
        "Ground (Decree 23/2015 art. 22)",
    ),
    "refuse_note": ("Ghi chú", "Note"),
    "refuse_button": ("Từ chối bản chính", "Refuse the original"),
    "extend_heading": ("Gia hạn và phiếu hẹn…", "Extend with an appointment slip…"),
    "extend_hint": (
        "Tối đa 2 ngày làm việc khi nhiều trang, nhiều bản hoặc nội dung phức tạp (Điều 21 "
        "Nghị định 23/2015/NĐ-CP); in phiếu hẹn cho người yêu cầu.",
        "At most 2 working days for many pages, many copies or complex content (Decree "
        "23/2015 art. 21); print the appointment slip for the requester.",
    ),
    "extend_days": ("Thêm", "Add"),
    "one_day": ("1 ngày làm việc", "1 working day"),
    "two_days": ("2 ngày làm việc", "2 working days"),
    "extend_at": ("Giờ hẹn", "Appointment hour"),
    "extend_button": ("Gia hạn", "Extend"),
    "slip_link": ("Tải phiếu hẹn (PDF)", "Appointment slip (PDF)"),
    "done_received": ("Đã tiếp nhận hồ sơ.", "The request was received."),
    "done_checked": ("Đã ghi nhận kiểm tra bản chính.", "The check of the original was recorded."),
    "done_refused": ("Đã từ chối bản chính.", "The original was refused."),
    "done_scanned": ("Đã tải bản quét lên.", "The scan was uploaded."),
    "done_extended": ("Đã gia hạn hồ sơ.", "The request was extended."),
    "done_certified": (
        "Đã chứng thực: bản sao đã được ký và vào sổ.",
        "Certified: the copy is signed and in the register.",
    ),
    "done_cancelled": ("Đã huỷ bản sao.", "The copy was cancelled."),
    # An issued copy (desk/document.html).
    "document_title": ("Bản sao điện tử đã chứng thực", "Certified electronic copy"),
    "register_entry": ("Trong sổ chứng thực", "In the register"),
    "number": ("Số chứng thực", "Number"),
    "book": ("Quyển số", "Book"),
    "issued_on": ("Ngày chứng thực", "Certified on"),
    "certifier": ("Người thực hiện chứng thực", "Certified by"),
    "status": ("Trạng thái", "Status"),
    "verify_link": ("Đường dẫn kiểm tra", "Verification link"),
    "sha256": ("Mã băm SHA-256 của tệp", "SHA-256 of the file"),
    "deliver_heading": ("Trao bản sao", "Hand over the copy"),
    "download_button": ("Tải bản sao (PDF)", "Download the copy (PDF)"),
    "link_button": ("Tạo đường dẫn tải về", "Make a download link"),
    "link_made": ("Đường dẫn tải về", "Download link"),
    "link_expires": ("Hết hạn lúc", "Expires"),
    "link_once": (
        "Đường dẫn chỉ hiển thị lần này: hãy sao chép và gửi cho người yêu cầu.",
        "The link is shown this once: copy it and send it to the requester.",
    ),
    "cancel_heading": ("Huỷ bản sao", "Cancel the copy"),
    "cancel_hint": (
        "Theo Điều 7 Thông tư 01/2020/TT-BTP: bản sao giữ số trong sổ, được đánh dấu đã huỷ và "
        "công bố; việc kiểm tra sẽ báo đã huỷ ngay.",
        "TT 01/2020 art. 7: the copy keeps its number in the register, is marked cancelled "
        "and published; verification says cancelled at once.",
    ),
    "cancel_reason": ("Lý do huỷ", "Reason"),
    "cancel_confirm": ("Tôi xác nhận huỷ bản sao này.", "I confirm cancelling this copy."),
    "cancel_button": ("Huỷ bản sao", "Cancel the copy"),
    # The register (desk/register.html).
    "register_title": ("Sổ chứng thực bản sao", "Register of certified copies"),
    "register_print": ("In sổ tháng (PDF)", "Print the month (PDF)"),
    "register_empty": (
        "Tháng này chưa có bản sao nào được chứng thực.",
        "No copies were certified in this month.",
    ),
    "register_total": ("Cộng", "Total"),
    "col_number": ("Số", "No."),
    "col_date": ("Ngày", "Date"),
    "month_nav": ("Chọn tháng", "Choose the month"),
    "month": ("Tháng", "Month"),
    "year": ("Năm", "Year"),
    "show_month": ("Xem", "Show"),
}
