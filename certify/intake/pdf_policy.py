# pyHanko's PDF object model (generic.*) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""What an uploaded PDF may not carry: encryption, scripts and automatic actions, forms,
attached files (NĐ 45/2020 art. 10 cl. 3: the copy is made from the scan of the paper
original, never from a user's PDF as it is)."""

from __future__ import annotations

from typing import Final

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from certify.intake import refusals

_MAX_PDF_OBJECTS_WALKED: Final = 200_000

# Actions that run code, open files or talk to the network.
_ACTIVE_ACTIONS: Final = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/ResetForm",
        "/RichMediaExecute",
        "/Rendition",
        "/Sound",
        "/Movie",
        "/GoToE",
        "/GoToR",
        "/URI",
    }
)


def check_passive(reader: PdfFileReader) -> None:
    """Refuse an encrypted PDF, then walk every object reachable from the trailer and refuse
    scripts, automatic actions, forms and attached files.

    :raises InvalidScanError: ``pdf_encrypted``, ``pdf_javascript``, ``pdf_forms``,
        ``pdf_embedded_files``, ``scan_corrupt`` (more than 200 000 objects, or a malformed
        structure).
    """
    if reader.encrypt_dict is not None:
        raise refusals.encrypted()
    root = reader.root
    if "/AcroForm" in root:
        raise refusals.forms()
    open_action = root.get("/OpenAction")
    if isinstance(open_action, generic.DictionaryObject) and open_action.get("/S") != "/GoTo":
        raise refusals.javascript()

    seen: set[tuple[int, int]] = set()
    todo: list[object] = [reader.trailer_view]
    walked = 0
    while todo:
        obj = todo.pop()
        if isinstance(obj, generic.IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            obj = obj.get_object()
        walked += 1
        if walked > _MAX_PDF_OBJECTS_WALKED:
            raise refusals.corrupt("the PDF has too many objects")
        if isinstance(obj, generic.DictionaryObject):
            _check_dict(obj)
            todo.extend(v for k, v in obj.items() if k not in ("/Parent", "/P"))
        elif isinstance(obj, generic.ArrayObject):
            todo.extend(obj)


def _check_dict(d: generic.DictionaryObject) -> None:
    if "/JS" in d or "/JavaScript" in d or "/AA" in d:
        raise refusals.javascript()
    if d.get("/S") in _ACTIVE_ACTIONS:
        raise refusals.javascript()
    if "/EmbeddedFiles" in d or "/EmbeddedFile" in d or d.get("/Type") == "/EmbeddedFile":
        raise refusals.embedded_files()
    subtype = d.get("/Subtype")
    if subtype == "/FileAttachment" or "/EF" in d:
        raise refusals.embedded_files()
    if subtype == "/Widget" or "/XFA" in d or d.get("/FT") is not None:
        raise refusals.forms()
