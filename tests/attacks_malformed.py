"""Attacks written byte by byte, and malformed files, for the verifier's hostile tests.

No PDF writer makes these, so they are assembled by hand: incremental updates whose xref
section is empty or garbage, signature wrapping (SWA), bytes after %%EOF, a flipped byte,
truncation, and files that are not (well-formed) PDFs: a bare header, reference loops, a
deflate bomb, a huge object count, a PNG. Every function is deterministic. ``tests.attacks``
holds the registry (``GENERATORS``, ``EXPECTED``); ``MALFORMED`` here lists the generators
that take no argument, ``MALFORMED_EXPECTED`` the verdicts a verifier may give for them
(the preferred first, never ``genuine``).
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from pyhanko.pdf_utils.reader import PdfFileReader

FORGED = "ĐÃ SỬA"
EOF = re.compile(rb"startxref\s+(\d+)\s+%%EOF[ \t]*(?:\r\n|\r|\n)?")
_MIB = 1 << 20
_ADLER_MOD = 65521

# --- the forger's text, drawn with the copy's own font ---------------------------------------


def pages(node: Any) -> list[Any]:
    """The page dictionaries under a page tree node, in order."""
    node = node.get_object()
    if node.get("/Type") == "/Page":
        return [node]
    return [p for kid in node["/Kids"] for p in pages(kid)]


def page_font(page: Any) -> tuple[str, Any, Any]:
    """(resource name, reference, dictionary) of the page's Unicode font (the copy's /F1)."""
    fonts = page["/Resources"]["/Font"]
    for name in sorted(fonts):
        if "/ToUnicode" in fonts[name]:
            return str(name), fonts.raw_get(name), fonts[name]
    raise ValueError("no font with a /ToUnicode CMap on the page")


def _glyphs(font: Any, text: str) -> bytes:
    """``text`` as an Identity-H hex string, through the font's own /ToUnicode CMap."""
    cmap = font["/ToUnicode"].data
    gids: dict[str, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for gid, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            gids.setdefault(bytes.fromhex(uni.decode()).decode("utf-16-be"), gid.decode())
    text = unicodedata.normalize("NFC", text)
    return b"<%s>" % "".join(gids.get(c, "0000") for c in text).encode()


def text_ops(page: Any, lines: Sequence[tuple[float, float, float, str]]) -> bytes:
    """Red text in the page's font, one (x, y, size, text) a line."""
    name, _, font = page_font(page)
    ops = [b"BT 0.8 0 0 rg"]
    for x, y, size, line in lines:
        glyphs = _glyphs(font, line)
        ops.append(b"%s %g Tf 1 0 0 1 %g %g Tm %s Tj" % (name.encode(), size, x, y, glyphs))
    return b" ".join([*ops, b"ET"])


def forged_ops(page: Any) -> bytes:
    """White over the whole page, then ĐÃ SỬA: what a viewer shows once the attack works."""
    _, _, width, height = (float(v) for v in page["/MediaBox"])
    lines = [(40, height / 2, 48, FORGED), (40, height / 2 - 40, 14, "Bản sao này đã bị sửa.")]
    return b"q 1 1 1 rg 0 0 %g %g re f Q\n%s\n" % (width, height, text_ops(page, lines))


# --- incremental saving attacks by hand (ISA) -------------------------------------------------


def _override_content(pdf: bytes) -> bytes:
    """An object redefining page 1's last content stream: its data, then the forgery."""
    reader = PdfFileReader(io.BytesIO(pdf))
    page = pages(reader.root["/Pages"])[0]
    contents = page.raw_get("/Contents")
    if isinstance(contents.get_object(), list):
        contents = contents.get_object().raw_get(-1)
    data = contents.get_object().data + b"\n" + forged_ops(page)
    num, gen = contents.idnum, contents.generation
    return b"%d %d obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n" % (
        num,
        gen,
        len(data),
        data,
    )


def _trailer(pdf: bytes) -> bytes:
    """A trailer dictionary for an update after ``pdf``: /Size /Root /ID /Prev."""
    trailer = PdfFileReader(io.BytesIO(pdf)).trailer
    root = trailer.raw_get("/Root")
    # original_bytes: an ID that happens to decode as text is read as a text string
    id1, id2 = (v.original_bytes.hex().encode() for v in trailer["/ID"])
    prev = int(EOF.findall(pdf)[-1])
    return b"<< /Size %d /Root %d %d R /ID [<%s> <%s>] /Prev %d >>" % (
        trailer["/Size"],
        root.idnum,
        root.generation,
        id1,
        id2,
        prev,
    )


def append_empty_xref_update(pdf: bytes) -> bytes:
    """ISA: a body redefining page 1's content stream (ĐÃ SỬA added), then an xref section
    with no entries and a trailer with /Prev. Readers that follow the xref see no change
    (poppler shows the original; pyHanko's strict reader refuses the empty section);
    readers that scan objects show the forgery.

    Expected verdict: modified (or unreadable)."""
    body = _override_content(pdf)
    tail = b"xref\ntrailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (_trailer(pdf), len(pdf) + len(body))
    return pdf + body + tail


def append_broken_xref_update(pdf: bytes) -> bytes:
    """ISA: the same body, then a garbage xref table and a startxref pointing past the end
    of the file; viewers rebuild the xref from the objects (poppler shows ĐÃ SỬA).

    Expected verdict: modified (or unreadable)."""
    garbage = b"xref\n0 3\nthis is not an xref table\n0000000000 6553 q\n"
    tail = b"trailer\n%s\nstartxref\n%d\n%%%%EOF\n" % (_trailer(pdf), 10 * len(pdf))
    return pdf + _override_content(pdf) + garbage + tail


def append_garbage(pdf: bytes) -> bytes:
    """Plain bytes after the final %%EOF, covered by no signature (the document timestamp
    then covers its revision, no longer the entire file).

    Expected verdict: modified."""
    return pdf + b"\n% not part of the copy\n" + bytes(range(256)) + b"ATTACKER DATA\n" * 16


# --- signature wrapping (SWA) -----------------------------------------------------------------


def seal_layout(pdf: bytes) -> tuple[list[int], tuple[int, int], int]:
    """The seal's (last regular signature's) /ByteRange, the span of ``/ByteRange [...]``
    with its padding, and the offset of its ``/Contents`` key."""
    reader = PdfFileReader(io.BytesIO(pdf))
    br = [int(v) for v in reader.embedded_regular_signatures[-1].byte_range]
    found = re.search(rb"/ByteRange\s*\[\s*0\s+%d\s+%d\s+%d\s*\] *" % tuple(br[1:]), pdf)
    if found is None:
        raise ValueError("the seal's /ByteRange was not found")
    return br, found.span(), pdf.rindex(b"/Contents", 0, br[1])


def wrap_signature(pdf: bytes) -> bytes:
    """SWA (CCS 2019): the file is cut after the seal's revision (DSS and document timestamp
    dropped); the seal's /ByteRange is rewritten, same length, so that its second signed
    part starts later; the gap after /Contents holds a new xref table (exactly where the
    old startxref points), the old trailer and an object redefining page 1's content (ĐÃ
    SỬA); then the second signed part, relocated byte for byte, so the seal's digest still
    matches. pyHanko: seal intact, coverage unclear; the officer's DocMDP is violated.

    Expected verdict: modified (or invalid)."""
    (_, b, c, d), (br_start, br_end), _ = seal_layout(pdf)
    if br_start < c:
        raise ValueError("wrapping needs /ByteRange after /Contents (pyHanko's layout)")
    doc = pdf[: c + d]
    xref_at = int(EOF.findall(doc)[-1])
    entries, trailer_at = _xref_entries(doc, xref_at)
    trailer = doc[trailer_at : doc.rindex(b"startxref")]
    body = _override_content(pdf)
    num = int(body.split(b" ", 1)[0])
    table_size = len(_xref_table({**entries, num: 0}))
    entries[num] = xref_at + table_size + len(trailer)
    moved_to = entries[num] + len(body)
    head = bytearray(doc[:xref_at])
    head[br_start:br_end] = (b"/ByteRange [0 %d %d %d]" % (b, moved_to, d)).ljust(br_end - br_start)
    return bytes(head) + _xref_table(entries) + trailer + body + doc[c:]


def _xref_entries(pdf: bytes, offset: int) -> tuple[dict[int, int], int]:
    """Object number -> offset, from the classic xref table at ``offset``; and its end."""
    pos = offset + len(b"xref")
    entries: dict[int, int] = {}
    while m := re.compile(rb"\s*(\d+) (\d+)[ \t]*\r?\n").match(pdf, pos):
        first, count = int(m[1]), int(m[2])
        pos = m.end()
        for i in range(count):
            if pdf[pos + 17 : pos + 18] == b"n":
                entries[first + i] = int(pdf[pos : pos + 10])
            pos += 20
    return entries, pos


def _xref_table(entries: dict[int, int]) -> bytes:
    out = [b"xref\n"]
    nums = sorted(entries)
    while nums:
        run = 1
        while run < len(nums) and nums[run] == nums[0] + run:
            run += 1
        out.append(b"%d %d\n" % (nums[0], run))
        out.extend(b"%010d 00000 n \n" % entries[n] for n in nums[:run])
        nums = nums[run:]
    return b"".join(out)


# --- tampering and truncation -----------------------------------------------------------------


def flip_byte(pdf: bytes, offset: int | None = None) -> bytes:
    """One byte XOR 0x01: by default in the middle of page 1's image data, inside every
    signature's first signed range, so the file still parses and renders.

    Expected verdict: invalid (or modified)."""
    if offset is None:
        reader = PdfFileReader(io.BytesIO(pdf))
        images = pages(reader.root["/Pages"])[0]["/Resources"]["/XObject"]
        ref = images.raw_get(sorted(images)[0])
        header = re.search(rb"(?<![0-9])%d %d obj" % (ref.idnum, ref.generation), pdf)
        assert header is not None
        data = pdf.index(b"stream", header.end()) + len(b"stream\n")
        offset = data + int(ref.get_object()["/Length"]) // 2
        while pdf[offset] in (0xFE, 0xFF):  # keep JPEG markers intact
            offset += 1
    return pdf[:offset] + bytes([pdf[offset] ^ 0x01]) + pdf[offset + 1 :]


def truncate(pdf: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` of the file (a broken download).

    Expected verdict: unreadable."""
    return pdf[: int(len(pdf) * keep)]


def strip_signatures(pdf: bytes) -> bytes:
    """The first revision only: the unsigned copy as built, signature fields empty.

    Expected verdict: unknown."""
    first = EOF.search(pdf)
    assert first is not None
    return pdf[: first.end()]


def malformed_broken_xref(pdf: bytes) -> bytes:
    """The final revision's xref table with every digit replaced by 'x', and its startxref
    pointing past the end of the file; same length, so earlier offsets stay right.

    Expected verdict: unreadable (a reader that rebuilds finds the document timestamp's
    signed bytes changed: invalid or modified)."""
    last = list(re.finditer(rb"startxref\s+(\d+)", pdf))[-1]
    xref_at = int(last[1])
    trailer_at = pdf.index(b"trailer", xref_at)
    table = re.sub(rb"\d", b"x", pdf[xref_at:trailer_at])
    pointer = b"9" * len(last[1])
    return pdf[:xref_at] + table + pdf[trailer_at : last.start(1)] + pointer + pdf[last.end(1) :]


# --- malformed files ----------------------------------------------------------------------------

_HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
_CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
_PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>"


def _objects(objects: list[bytes]) -> tuple[bytearray, list[int]]:
    """The header and objects 1..n (``objects[i]`` is object i+1); and their offsets."""
    out, offsets = bytearray(_HEADER), []
    for num, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (num, body)
    return out, offsets


def _assemble(objects: list[bytes]) -> bytes:
    """A one-revision PDF with a classic xref table and /Root 1 0 R."""
    out, offsets = _objects(objects)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), entries, data)


def malformed_truncated_header() -> bytes:
    """A PDF header and the start of a catalog, then nothing: no xref, no trailer.

    Expected verdict: unreadable."""
    return _HEADER + b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R"


def reference_loop() -> bytes:
    """A page tree node listing itself among its /Kids, and a content stream whose /Length
    is an indirect reference to itself. pyHanko opens it (no signatures).

    Expected verdict: unreadable (or unknown); within bounded time and memory."""
    kids = b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>"
    content = b"<< /Length 4 0 R >>\nstream\nBT /F1 12 Tf (loop) Tj ET\nendstream"
    return _assemble([_CATALOG, kids, _PAGE, content])


def _zero_deflate(size: int) -> bytes:
    """A zlib stream of ``size`` zero bytes, made without ever holding them.

    After a full flush the compressor keeps no history, so each further 1 MiB block of
    zeros compresses to the same bytes: one block's output is repeated. The Adler-32 of n
    zeros is (n mod 65521) << 16 | 1 (RFC 1950 §8)."""
    compressor = zlib.compressobj(9)
    whole, rest = divmod(size, _MIB)
    parts = []
    if whole:
        block = bytes(_MIB)
        parts.append(compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH))
        again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
        parts.append(again * (whole - 1))
    parts.append(compressor.compress(bytes(rest)))
    end = compressor.flush(zlib.Z_FINISH)
    adler = ((size % _ADLER_MOD) << 16) | 1
    return b"".join(parts) + end[:-4] + struct.pack(">I", adler)


def deflate_bomb(size_mb: int = 2000) -> bytes:
    """A one-page PDF whose content stream (FlateDecode) inflates to ``size_mb`` MiB of
    zeros (whitespace to a content parser) from about ``size_mb`` KiB on disk.

    Expected verdict: unknown (no signature), or unreadable; within bounded time and memory."""
    data = _zero_deflate(size_mb * _MIB)
    return _assemble([_CATALOG, _PAGES, _PAGE, _stream(data, b"/Filter /FlateDecode ")])


def many_objects(n: int = 2_000_000) -> bytes:
    """A small PDF whose cross-reference stream claims ``n`` objects (/Size n); entries
    5..n-1 all point at the page object. About 10 KB a million objects.

    Expected verdict: unreadable (or unknown); within bounded time and memory (pyHanko
    takes about 10 s to open the default)."""
    out, offsets = _objects([_CATALOG, _PAGES, _PAGE, _stream(b"")])
    xref_at = len(out)
    rows = [b"\x00\x00\x00\x00\x00\xff"]
    rows += [b"\x01" + struct.pack(">I", off) + b"\x00" for off in [*offsets, xref_at]]
    rows.append((b"\x01" + struct.pack(">I", offsets[2]) + b"\x00") * (n - len(rows)))
    data = zlib.compress(b"".join(rows), 9)
    entries = b"/Type /XRef /Size %d /W [1 4 1] /Root 1 0 R /Filter /FlateDecode " % n
    out += b"5 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n" % (_stream(data, entries), xref_at)
    return bytes(out)


def not_a_pdf(kind: str = "png") -> bytes:
    """A 1x1 PNG image (``kind="png"``) or Vietnamese plain text (``kind="text"``).

    Expected verdict: unreadable."""
    if kind == "text":
        return "Đây không phải là tệp PDF.\n".encode()

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data)
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff", 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


MALFORMED: dict[str, Callable[[], bytes]] = {
    "malformed_truncated_header": malformed_truncated_header,
    "reference_loop": reference_loop,
    "deflate_bomb": deflate_bomb,
    # 200,000 objects open within a second; millions may take a worker to its time limit
    # (tests/api/test_verify_attacks.py checks that case on its own).
    "many_objects": lambda: many_objects(200_000),
    "not_a_pdf": not_a_pdf,
    "not_a_pdf_text": lambda: not_a_pdf("text"),
}

MALFORMED_EXPECTED: dict[str, tuple[str, ...]] = {
    "malformed_truncated_header": ("unreadable",),
    "reference_loop": ("unreadable", "unknown"),
    "deflate_bomb": ("unknown", "unreadable"),
    "many_objects": ("unreadable", "unknown"),
    "not_a_pdf": ("unreadable",),
    "not_a_pdf_text": ("unreadable",),
}
