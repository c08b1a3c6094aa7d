"""The grounds on which an original is refused (NĐ 23/2015/NĐ-CP art. 22), by stable code,
in plain Vietnamese and English: what the desk offers, the register keeps (``refusal_code``)
and the requester is told."""

from __future__ import annotations

from typing import Final

# NĐ 23/2015 art. 22: the grounds on which an original is refused, in plain words.
REFUSAL_REASONS: Final[dict[str, tuple[str, str]]] = {
    "altered": (
        "Bản chính bị tẩy xoá, sửa chữa, thêm, bớt nội dung không hợp lệ",
        "The original has been erased, altered, or had content added or removed unlawfully",
    ),
    "damaged": (
        "Bản chính bị hư hỏng, cũ nát, không xác định được nội dung",
        "The original is damaged or worn so that its content cannot be made out",
    ),
    "secret": (
        "Bản chính đóng dấu mật của cơ quan có thẩm quyền hoặc ghi rõ không được sao chụp",
        "The original bears a state-secret stamp or says it must not be copied",
    ),
    "unlawful": (
        "Bản chính có nội dung trái pháp luật, đạo đức xã hội; tuyên truyền, kích động chiến "
        "tranh, chống chế độ xã hội chủ nghĩa Việt Nam; xuyên tạc lịch sử; xúc phạm danh dự, "
        "nhân phẩm, uy tín của cá nhân, tổ chức; vi phạm quyền công dân",
        "The original's content is unlawful or against social morality, or otherwise "
        "barred by Decree 23/2015 art. 22",
    ),
    "not_legalised": (
        "Bản chính do cơ quan, tổ chức có thẩm quyền của nước ngoài cấp chưa được hợp pháp "
        "hoá lãnh sự",
        "The original was issued abroad and has not been consularly legalised",
    ),
    "self_made": (
        "Giấy tờ, văn bản do cá nhân tự lập nhưng không có xác nhận, chứng nhận của cơ quan, "
        "tổ chức có thẩm quyền",
        "A paper made by a private person without confirmation by a competent body",
    ),
}
