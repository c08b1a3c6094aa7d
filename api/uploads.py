"""Reading an upload on the public endpoint: bounded, multipart or a raw PDF body.

The body is read from the stream with a running count, so an oversized upload is refused
(HTTP 413) as soon as it passes the limit, with or without a Content-Length.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from certify.errors import InvalidInputError, PayloadTooLargeError

# Room for the multipart envelope (boundaries, part headers) around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


def too_large(max_bytes: int, *, upload: bool = False) -> PayloadTooLargeError:
    if max_bytes >= 1024 * 1024:
        size = f"{max_bytes / (1024 * 1024):.0f} MiB"
    else:
        size = f"{max_bytes // 1024} KiB"
    if upload:
        return PayloadTooLargeError(
            f"Tệp tải lên quá lớn (tối đa {size}). / The uploaded file is too large "
            f"(at most {size})."
        )
    return PayloadTooLargeError(
        f"Dữ liệu gửi lên quá lớn (tối đa {size}). / The request body is too large "
        f"(at most {size})."
    )


async def read_body(request: Request, *, max_bytes: int) -> bytes:
    """The request body, read as it streams and refused as soon as it passes ``max_bytes``
    (a declared Content-Length over the limit is refused before reading anything).

    Raises:
        PayloadTooLargeError: the body is larger than ``max_bytes`` (HTTP 413).
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, *, max_bytes: int) -> bytes:
    """The uploaded file: multipart field ``file``, or the whole body when it is sent as
    ``application/pdf`` (or ``application/octet-stream``).

    Raises:
        PayloadTooLargeError: more than ``max_bytes`` (code ``upload_too_large``, HTTP 413).
        InvalidInputError: no file in the request (code ``upload_missing``, HTTP 400).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    multipart = content_type == "multipart/form-data"
    try:
        body = await read_body(
            request, max_bytes=max_bytes + (MULTIPART_OVERHEAD if multipart else 0)
        )
    except PayloadTooLargeError:
        raise too_large(max_bytes, upload=True) from None
    if multipart:
        # Starlette parses the form from the body it has cached (bounded above).
        request._body = body
        try:
            form = await request.form(max_files=1, max_fields=8)
        except Exception as exc:  # malformed multipart: python-multipart raises several types
            raise _missing() from exc
        upload = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        await form.close()
    else:
        data = body
    if not data:
        raise _missing()
    if len(data) > max_bytes:
        raise too_large(max_bytes, upload=True)
    return data


def _missing() -> InvalidInputError:
    return InvalidInputError(
        "Chưa có tệp PDF để kiểm tra (trường 'file' hoặc thân yêu cầu application/pdf). / "
        "No PDF to check (multipart field 'file', or an application/pdf body).",
        code="upload_missing",
    )
