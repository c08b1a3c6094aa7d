# pyHanko's PDF object model (generic.*, writers) is not annotated; calls into it are Any.
# mypy: disable-error-code="no-untyped-call"
"""A Unicode TrueType font prepared once and embedded cheaply in every copy.

The certification text must render Vietnamese correctly (DOMAIN.md: embed a Unicode font,
never a Latin-1 base font). Subsetting a full font costs ~150 ms, so :func:`prepare_font`
does it once at start-up: it keeps only the glyphs for Latin (Basic, Latin-1, Extended-A/B,
Extended Additional U+1E00–1EFF for Vietnamese), combining marks and common punctuation,
rescales the font to 1000 units per em (so PDF glyph widths are the font's own advances,
exactly), and precomputes the PDF objects' bytes. :meth:`PreparedFont.embed` then only adds
those objects to a writer, as a Type0 / CIDFontType2 font with Identity-H encoding, the
glyph id as CID (``/CIDToGIDMap /Identity``) and a ``/ToUnicode`` CMap so text can be
extracted and searched (PDF/A-2b, ISO 19005-2 §6.2.11).
"""

from __future__ import annotations

import io
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem

__all__ = ["PreparedFont", "prepare_font"]

# Code points kept in the subset.
_RANGES: Final = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement
    (0x0100, 0x017F),  # Latin Extended-A
    (0x0180, 0x024F),  # Latin Extended-B (ơ, ư are U+01A0–01B0)
    (0x0300, 0x036F),  # combining diacritical marks
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese precomposed letters)
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203A),  # per mille, guillemets
    (0x20AB, 0x20AB),  # đồng sign
    (0x2116, 0x2116),  # numero sign
)
_UPEM: Final = 1000


@dataclass(frozen=True)
class PreparedFont:
    """A subset font rescaled to 1000 units/em, with its PDF objects' data precomputed."""

    ps_name: str
    font_file: bytes  # the subset TrueType program, zlib-compressed
    font_file_length: int  # its uncompressed length (/Length1)
    cmap: dict[int, int]  # code point -> glyph id (= CID)
    widths: dict[int, int]  # glyph id -> advance in 1/1000 em
    to_unicode: bytes  # zlib-compressed ToUnicode CMap
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    flags: int

    def encode(self, text: str) -> tuple[bytes, float]:
        """Return the 2-byte Identity-H glyph string of ``text`` and its width at 1 pt.

        Text is NFC-normalised first, so "ứ" typed as u + horn + acute uses the precomposed
        glyph U+1EE9. A character the font lacks becomes glyph 0 (.notdef).
        """
        gids = [self.cmap.get(ord(ch), 0) for ch in unicodedata.normalize("NFC", text)]
        width = sum(self.widths.get(g, 0) for g in gids) / _UPEM
        return b"".join(g.to_bytes(2, "big") for g in gids), width

    def width(self, text: str, size: float) -> float:
        """Width of ``text`` in points at font size ``size``."""
        return self.encode(text)[1] * size

    def embed(self, writer: object) -> object:
        """Add the font's objects to a pyHanko writer; return a reference to the Type0 font."""
        from pyhanko.pdf_utils import generic
        from pyhanko.pdf_utils.generic import pdf_name

        add = writer.add_object  # type: ignore[attr-defined]
        font_file = generic.StreamObject(
            {
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
                pdf_name("/Length1"): generic.NumberObject(self.font_file_length),
            },
            encoded_data=self.font_file,
        )
        descriptor = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/FontDescriptor"),
                pdf_name("/FontName"): pdf_name("/" + self.ps_name),
                pdf_name("/Flags"): generic.NumberObject(self.flags),
                pdf_name("/FontBBox"): generic.ArrayObject(
                    generic.NumberObject(v) for v in self.bbox
                ),
                pdf_name("/ItalicAngle"): generic.NumberObject(0),
                pdf_name("/Ascent"): generic.NumberObject(self.ascent),
                pdf_name("/Descent"): generic.NumberObject(self.descent),
                pdf_name("/CapHeight"): generic.NumberObject(self.cap_height),
                pdf_name("/StemV"): generic.NumberObject(80),
                pdf_name("/FontFile2"): add(font_file),
            }
        )
        widths = generic.ArrayObject()
        for gid in sorted(self.widths):
            widths.append(generic.NumberObject(gid))
            widths.append(generic.ArrayObject([generic.NumberObject(self.widths[gid])]))
        cid_font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
                pdf_name("/BaseFont"): pdf_name("/" + self.ps_name),
                pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        pdf_name("/Registry"): generic.TextStringObject("Adobe"),
                        pdf_name("/Ordering"): generic.TextStringObject("Identity"),
                        pdf_name("/Supplement"): generic.NumberObject(0),
                    }
                ),
                pdf_name("/FontDescriptor"): add(descriptor),
                pdf_name("/DW"): generic.NumberObject(_UPEM),
                pdf_name("/W"): widths,
                pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            }
        )
        to_unicode = generic.StreamObject(
            {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=self.to_unicode
        )
        type0 = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): pdf_name("/" + self.ps_name),
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([add(cid_font)]),
                pdf_name("/ToUnicode"): add(to_unicode),
            }
        )
        return add(type0)


def prepare_font(path: Path, *, tag: str = "CRTFYA") -> PreparedFont:
    """Subset and rescale the TrueType font at ``path`` (done once, at start-up).

    :param tag: the six-letter subset tag put before the PostScript name (ISO 32000 9.6.4).
    :raises OSError: if the file cannot be read; ``ValueError`` if it is not a usable font.
    """
    tt = TTFont(str(path), lazy=False)
    if "glyf" not in tt:
        raise ValueError("a TrueType (glyf) font is required")
    wanted = {cp for lo, hi in _RANGES for cp in range(lo, hi + 1)}
    available = set(tt.getBestCmap())
    options = subset.Options()
    options.layout_features = []  # no shaping: text is NFC, precomposed glyphs
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "kern", "DSIG", "FFTM"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.recalc_bounds = True
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(wanted & available))
    subsetter.subset(tt)
    if tt["head"].unitsPerEm != _UPEM:
        # pyHanko and many viewers assume 1000 units/em when turning advances into /W.
        scale_upem(tt, _UPEM)
    buf = io.BytesIO()
    tt.save(buf)
    program = buf.getvalue()
    tt = TTFont(io.BytesIO(program))

    cmap = {cp: tt.getGlyphID(name) for cp, name in tt.getBestCmap().items()}
    hmtx = tt["hmtx"]
    order = tt.getGlyphOrder()
    widths = {gid: int(hmtx[name][0]) for gid, name in enumerate(order)}
    head, hhea, os2 = tt["head"], tt["hhea"], tt["OS/2"]
    base_name = tt["name"].getDebugName(6) or Path(path).stem
    base_name = "".join(ch for ch in base_name if ch.isalnum() or ch in "-_") or "Font"
    cap_height = int(getattr(os2, "sCapHeight", 0) or hhea.ascent * 0.7)
    # Flags: symbolic (bit 3) is right for a CID font with Identity encoding.
    return PreparedFont(
        ps_name=f"{tag}+{base_name}",
        font_file=zlib.compress(program, 9),
        font_file_length=len(program),
        cmap=cmap,
        widths=widths,
        to_unicode=zlib.compress(_to_unicode_cmap(cmap), 9),
        bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
        ascent=int(hhea.ascent),
        descent=int(hhea.descent),
        cap_height=cap_height,
        flags=4,
    )


def _to_unicode_cmap(cmap: dict[int, int]) -> bytes:
    # One code point per glyph: the lowest that maps to it (e.g. the letter, not a lookalike).
    by_gid: dict[int, int] = {}
    for cp, gid in sorted(cmap.items()):
        if gid and gid not in by_gid:
            by_gid[gid] = cp
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    items = sorted(by_gid.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(
            f"<{gid:04X}> <{chr(cp).encode('utf-16-be').hex().upper()}>" for gid, cp in chunk
        )
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")
