"""The words of the desk's admin page (``desk/admin.html``), in Vietnamese and English.

The page gets ``T = {**api.desk_i18n.WORDS, **ADMIN_WORDS}`` (see
``api/routes/admin_pages.py``), so the layout's words stay available.
"""

from __future__ import annotations

from typing import Final

from api.i18n import Pair

ADMIN_WORDS: Final[dict[str, Pair]] = {
    "admin_title": ("Cán bộ và chứng thư số", "Officers and certificates"),
    "admin_intro": (
        "Thêm cán bộ của cơ quan, giao hoặc rút vai trò, cấp và thu hồi chứng thư số cá nhân. "
        "Mọi thao tác đều được ghi nhật ký.",
        "Add the authority's officers, grant or withdraw roles, issue and revoke personal "
        "certificates. Every action is recorded.",
    ),
    "officers_heading": ("Cán bộ của cơ quan", "The authority's officers"),
    "no_officers": ("Chưa có cán bộ nào.", "No officers yet."),
    "you": ("bạn", "you"),
    "active": ("Đang làm việc", "Active"),
    "inactive": ("Đã khoá", "Deactivated"),
    "totp_yes": ("Đã đăng ký mã xác thực", "Authenticator enrolled"),
    "totp_no": ("Chưa đăng ký mã xác thực", "No authenticator yet"),
    "no_password": ("Chưa có mật khẩu", "No password set"),
    # Roles (certify.access.ROLES).
    "roles": ("Vai trò", "Roles"),
    "no_roles": ("Không có vai trò nào.", "No roles."),
    "role_clerk": ("Tiếp nhận hồ sơ", "Clerk"),
    "role_certifier": ("Người thực hiện chứng thực", "Certifier"),
    "role_admin": ("Quản trị", "Administrator"),
    "role_auditor": ("Kiểm tra", "Auditor"),
    "grant_label": ("Giao thêm vai trò", "Grant a role"),
    "grant_button": ("Giao vai trò", "Grant"),
    "withdraw_button": ("Rút", "Withdraw"),
    "withdraw_role": ("Rút vai trò", "Withdraw the role"),
    "own_admin_kept": (
        "Vai trò quản trị của chính bạn chỉ quản trị viên khác rút được.",
        "Only another admin can withdraw your own admin role.",
    ),
    # Certificates.
    "certificates": ("Chứng thư số", "Certificates"),
    "no_certificates": ("Chưa có chứng thư số.", "No certificate yet."),
    "serial": ("Số hiệu", "Serial"),
    "valid_until": ("Hiệu lực đến", "Valid until"),
    "revoked_on": ("Thu hồi ngày", "Revoked on"),
    "imported": ("Do CA khác cấp", "Issued by another CA"),
    "cert_valid": ("Còn hiệu lực", "Valid"),
    "cert_revoked": ("Đã thu hồi", "Revoked"),
    "cert_expired": ("Đã hết hạn", "Expired"),
    "cert_not_yet_valid": ("Chưa có hiệu lực", "Not yet valid"),
    "revoke_label": ("Lý do thu hồi", "Reason for revoking"),
    "choose_reason": ("— Chọn lý do —", "— Choose a reason —"),
    "revoke_button": ("Thu hồi", "Revoke"),
    "issue_button": ("Cấp chứng thư số mới", "Issue a new certificate"),
    "issue_only_certifiers": (
        "Chỉ cấp chứng thư số cho người thực hiện chứng thực.",
        "Certificates are issued to certifiers only.",
    ),
    # RFC 5280 §5.3.1 reasons (api.admin_actions.REVOCATION_REASONS).
    "reason_keyCompromise": ("Lộ hoặc mất khoá bí mật", "Key compromised or lost"),
    "reason_affiliationChanged": ("Chuyển công tác", "Moved to another post"),
    "reason_superseded": ("Đã cấp chứng thư thay thế", "Replaced by a new certificate"),
    "reason_cessationOfOperation": ("Thôi việc, nghỉ hưu", "Left the service"),
    "reason_privilegeWithdrawn": ("Không còn được giao ký", "No longer allowed to sign"),
    "reason_unspecified": ("Lý do khác", "Other reason"),
    # Deactivation.
    "deactivate_button": ("Khoá tài khoản", "Deactivate"),
    "deactivate_hint": (
        "Cán bộ bị khoá không đăng nhập được; phiên làm việc và mã truy cập API của họ ngừng "
        "hoạt động ngay.",
        "A deactivated officer cannot log in; their sessions and API tokens stop at once.",
    ),
    # Adding an officer.
    "add_heading": ("Thêm cán bộ", "Add an officer"),
    "new_username": ("Tên đăng nhập", "Username"),
    "username_hint": (
        "Chữ thường không dấu, số, dấu chấm hoặc gạch ngang, ví dụ mai.lt.",
        "Lower-case letters without accents, digits, dots or hyphens, e.g. mai.lt.",
    ),
    "full_name": ("Họ và tên", "Full name"),
    "title": ("Chức danh", "Title"),
    "add_button": ("Thêm cán bộ", "Add officer"),
    # Results.
    "done": ("Đã thực hiện", "Done"),
    "refused": ("Chưa thực hiện được", "Not done"),
    "done_role_granted": ("Đã giao vai trò.", "The role was granted."),
    "done_role_withdrawn": ("Đã rút vai trò.", "The role was withdrawn."),
    "done_officer_deactivated": ("Đã khoá tài khoản.", "The officer was deactivated."),
    "done_certificate_issued": ("Đã cấp chứng thư số.", "The certificate was issued."),
    "done_certificate_revoked": (
        "Đã thu hồi chứng thư số; danh sách thu hồi (CRL) và OCSP đã cập nhật.",
        "The certificate was revoked; the CRL and OCSP say so now.",
    ),
    "new_officer_heading": ("Đã thêm cán bộ", "Officer added"),
    "initial_password": ("Mật khẩu ban đầu", "Initial password"),
    "initial_password_hint": (
        "Mật khẩu này chỉ hiển thị một lần. Hãy trao tận tay cho cán bộ; hệ thống chỉ lưu "
        "bản băm của nó.",
        "This password is shown this once. Hand it over in person; only its hash is kept.",
    ),
}
