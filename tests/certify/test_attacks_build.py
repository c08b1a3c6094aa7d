# pyHanko and pikepdf are partly unannotated: calls into them are untyped.
# mypy: disable-error-code="no-untyped-call"
"""The attack generators (tests.attacks, tests.attacks_malformed) make the change they claim.

Only the files are checked here: that each differs from the genuine copy as intended and is
the same every time. What the verifier answers for them is tested with the verifier.
"""

from __future__ import annotations

import io
import re
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certify.copy import CopyBuilder
from certify.signing import CopySigner
from tests import attacks
from tests import attacks_malformed as raw
from tests.issuing import ServedPki

VERDICTS = {"modified", "invalid", "untrusted", "unknown", "unreadable"}
UPDATES = [
    "append_page_content",
    "append_annotation",
    "append_form_fill",
    "append_extra_signature",
    "append_noop_update",
    "shadow_hide",
    "shadow_replace_field",
    "certification_annotation",
    "certification_signature_field",
]
USF = [
    "alter_byte_range",
    "zero_contents",
    "empty_contents",
    "remove_contents",
    "remove_byte_range",
]


@pytest.fixture(scope="module")
def genuine(
    copy_builder: CopyBuilder, copy_signer: CopySigner, tmp_path_factory: pytest.TempPathFactory
) -> bytes:
    return attacks.signed_copy(copy_builder, copy_signer, tmp_path_factory.mktemp("attacks"))


def reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf), strict=True)


def shown_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "shown.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=False)
    return done.stdout.decode()


def resolved(array: Any) -> list[Any]:
    return [array[i] for i in range(len(array))]


def form_fields(pdf: bytes) -> dict[str, Any]:
    return {f["/T"]: f for f in resolved(reader(pdf).root["/AcroForm"]["/Fields"])}


def seal_dictionary(pdf: bytes) -> dict[str, Any]:
    """The seal field's /V as the last revision defines it (no signature parsing)."""
    return dict(form_fields(pdf)["seal"]["/V"].items())


def no_context() -> ValidationContext:
    return ValidationContext(trust_roots=[], allow_fetching=False)


def test_the_genuine_copy_has_what_the_attacks_target(genuine: bytes) -> None:
    r = reader(genuine)
    assert [s.field_name for s in r.embedded_regular_signatures] == ["officer", "seal"]
    assert len(r.embedded_timestamp_signatures) == 1


@pytest.mark.parametrize("name", sorted(attacks.GENERATORS))
def test_each_attack_changes_the_copy_deterministically(genuine: bytes, name: str) -> None:
    generate = attacks.GENERATORS[name]
    out = generate(genuine)
    assert out != genuine
    assert generate(genuine) == out
    assert attacks.EXPECTED[name] and set(attacks.EXPECTED[name]) <= VERDICTS


@pytest.mark.parametrize("name", sorted(raw.MALFORMED))
def test_each_malformed_file_is_deterministic(name: str) -> None:
    make = raw.MALFORMED[name]
    assert make() == make()
    assert raw.MALFORMED_EXPECTED[name] and set(raw.MALFORMED_EXPECTED[name]) <= VERDICTS


@pytest.mark.parametrize("name", UPDATES)
def test_object_updates_are_appended_revisions_that_parse(genuine: bytes, name: str) -> None:
    out = attacks.GENERATORS[name](genuine)
    assert out.startswith(genuine)
    r = reader(out)
    assert r.xrefs.total_revisions == reader(genuine).xrefs.total_revisions + 1
    names = [s.field_name for s in r.embedded_signatures]
    assert names[:2] == ["officer", "seal"]


@pytest.mark.parametrize(
    "name",
    ["append_page_content", "shadow_hide", "append_broken_xref_update", "wrap_signature"],
)
def test_page_content_forgeries_show_in_a_viewer(genuine: bytes, name: str, tmp_path: Path) -> None:
    assert raw.FORGED not in shown_text(genuine, tmp_path)
    text = shown_text(attacks.GENERATORS[name](genuine), tmp_path)
    assert raw.FORGED in text
    if name == "append_page_content":  # page 1 replaced (its footer gone), not covered
        assert "— trang 1/" in shown_text(genuine, tmp_path)
        assert "— trang 1/" not in text


def test_annotations_and_fields_are_in_the_last_revision(genuine: bytes) -> None:
    def page_annots(pdf: bytes) -> list[Any]:
        return resolved(raw.pages(reader(pdf).root["/Pages"])[0]["/Annots"])

    for name, subtype, text in [
        ("append_annotation", "/FreeText", raw.FORGED),
        ("certification_annotation", "/FreeText", "Bản chính đã sửa"),
    ]:
        annot = page_annots(attacks.GENERATORS[name](genuine))[-1]
        assert annot["/Subtype"] == subtype and annot["/Contents"] == text
        assert "/AP" in annot
    filled = form_fields(attacks.append_form_fill(genuine))["ghi_chu"]
    assert filled["/FT"] == "/Tx" and filled["/V"] == raw.FORGED
    sneaky = form_fields(attacks.certification_signature_field(genuine))["phu_luc"]
    assert sneaky["/FT"] == "/Sig" and "/V" not in sneaky


def test_shadow_replace_field_changes_only_the_seal_appearance(genuine: bytes) -> None:
    before = reader(genuine).embedded_regular_signatures[-1].sig_field
    after = reader(attacks.shadow_replace_field(genuine)).embedded_regular_signatures[-1]
    assert after.sig_field.raw_get("/AP") != before.raw_get("/AP")
    assert after.sig_field.raw_get("/V") == before.raw_get("/V")


def test_extra_signature_is_intact_and_by_an_outsider(genuine: bytes) -> None:
    sigs = reader(attacks.append_extra_signature(genuine)).embedded_regular_signatures
    assert [s.field_name for s in sigs] == ["officer", "seal", "xac_nhan"]
    assert sigs[-1].signer_cert.subject.native["common_name"] == "Nguyễn Văn Giả"
    status = validate_pdf_signature(sigs[-1], no_context())
    assert status.intact and status.valid and not status.trusted


def test_noop_update_rewrites_page_one_unchanged(genuine: bytes) -> None:
    out = attacks.append_noop_update(genuine)
    before, after = (raw.pages(reader(pdf).root["/Pages"])[0] for pdf in (genuine, out))
    assert dict(before.items()) == dict(after.items())
    assert len(re.findall(rb"\d+ 0 obj", out[len(genuine) :])) == 1


def test_hand_written_updates_have_empty_or_broken_xref_sections(genuine: bytes) -> None:
    empty = attacks.GENERATORS["append_empty_xref_update"](genuine)
    tail = empty[len(genuine) :]
    assert empty.startswith(genuine) and re.match(rb"\d+ 0 obj\n", tail)
    pointer = int(raw.EOF.findall(empty)[-1])
    assert empty[pointer:].startswith(b"xref\ntrailer\n<<") and b"/Prev" in empty[pointer:]
    broken = attacks.GENERATORS["append_broken_xref_update"](genuine)
    assert broken.startswith(genuine)
    assert int(raw.EOF.findall(broken)[-1]) > len(broken)
    garbage = raw.append_garbage(genuine)
    assert garbage.startswith(genuine) and garbage.rstrip().endswith(b"ATTACKER DATA")


def test_wrapping_moves_the_signed_bytes_without_changing_them(genuine: bytes) -> None:
    seal = reader(genuine).embedded_regular_signatures[-1]
    _, b, c, d = (int(v) for v in seal.byte_range)
    out = raw.wrap_signature(genuine)
    wrapped = reader(out).embedded_regular_signatures[-1]
    _, b2, c2, d2 = (int(v) for v in wrapped.byte_range)
    assert (b2, d2) == (b, d) and c2 > c
    assert out[:b2] + out[c2 : c2 + d2] == genuine[:b] + genuine[c : c + d]
    assert out[b2:c2].startswith(genuine[b:c])  # /Contents kept, new content after it
    assert len(out) == c2 + d2  # the relocated part ends the file: its startxref is used


@pytest.mark.parametrize("in_place", [False, True])
@pytest.mark.parametrize("name", USF)
def test_usf_breaks_the_seal_dictionary(genuine: bytes, name: str, *, in_place: bool) -> None:
    original = seal_dictionary(genuine)
    out = getattr(attacks, name)(genuine, in_place=in_place)
    if in_place:
        assert len(out) == len(genuine)
        changed = [i for i in range(len(out)) if out[i] != genuine[i]]
        assert changed[-1] - changed[0] < len(original["/Contents"]) * 2 + 200
    else:
        assert out.startswith(genuine)
    sig = seal_dictionary(out)
    contents = original["/Contents"]
    assert {
        "alter_byte_range": lambda: list(sig["/ByteRange"]) == [0, 0, 0, 0],
        "zero_contents": lambda: sig["/Contents"] == bytes(len(contents)),
        "empty_contents": lambda: len(sig["/Contents"]) == 0,
        "remove_contents": lambda: "/Contents" not in sig,
        "remove_byte_range": lambda: "/ByteRange" not in sig,
    }[name]()
    assert sig["/Type"] == "/Sig"


def test_resigned_copy_copies_the_names_not_the_keys(genuine: bytes, served_pki: ServedPki) -> None:
    real = reader(genuine).embedded_regular_signatures
    fake = reader(attacks.resign_with_fake_ca(genuine)).embedded_regular_signatures
    assert [s.field_name for s in fake] == ["officer", "seal"]
    _, _, der = asn1_pem.unarmor(served_pki.root_pem.read_bytes())
    ours = ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)
    for r, f in zip(real, fake, strict=True):
        assert f.signer_cert.subject == r.signer_cert.subject
        assert f.signer_cert.serial_number == r.signer_cert.serial_number
        assert f.signer_cert.public_key.dump() != r.signer_cert.public_key.dump()
        assert r.signer_cert.issuer in [c.subject for c in f.other_embedded_certs]
        assert validate_pdf_signature(f, no_context()).intact
        status = validate_pdf_signature(f, ours)
        assert status.intact and status.valid and not status.trusted
    assert fake[0].docmdp_level is not None  # the officer certifies again


def test_flip_byte_flips_one_signed_image_byte(genuine: bytes) -> None:
    out = raw.flip_byte(genuine)
    assert len(out) == len(genuine)
    changed = [i for i in range(len(out)) if out[i] != genuine[i]]
    officer = reader(genuine).embedded_regular_signatures[0]
    assert len(changed) == 1 and changed[0] < officer.byte_range[1]
    assert reader(out).embedded_regular_signatures  # still parses


def test_truncation_and_stripping(genuine: bytes) -> None:
    assert raw.truncate(genuine) == genuine[: int(len(genuine) * 0.6)]
    unsigned = raw.strip_signatures(genuine)
    assert genuine.startswith(unsigned) and unsigned.rstrip().endswith(b"%%EOF")
    assert reader(unsigned).xrefs.total_revisions == 1
    assert not reader(unsigned).embedded_signatures
    fields = form_fields(unsigned)
    assert set(fields) == {"officer", "seal"} and all("/V" not in f for f in fields.values())


def test_broken_final_xref_keeps_the_length(genuine: bytes) -> None:
    out = raw.malformed_broken_xref(genuine)
    assert len(out) == len(genuine)
    assert int(re.findall(rb"startxref\s+(\d+)", out)[-1]) > len(out)


def test_malformed_files() -> None:
    assert raw.malformed_truncated_header().startswith(b"%PDF-1.7")
    assert b"%%EOF" not in raw.malformed_truncated_header()
    loop = raw.reference_loop()
    assert b"2 0 obj\n<< /Type /Pages /Kids [2 0 R" in loop and b"4 0 obj\n<< /Length 4 0 R" in loop
    png = raw.not_a_pdf()
    assert Image.open(io.BytesIO(png)).size == (1, 1)
    assert not raw.not_a_pdf("text").startswith(b"%PDF")


def test_deflate_bomb_inflates_to_exactly_its_size_of_zeros() -> None:
    bomb = raw.deflate_bomb(5)
    data = bomb[bomb.index(b"stream\n") + 7 : bomb.rindex(b"\nendstream")]
    inflater, size = zlib.decompressobj(), 0
    while not inflater.eof:  # 1 MiB at a time, as a careful reader would
        chunk = inflater.decompress(data, 1 << 20)
        assert not chunk.strip(b"\0")
        size += len(chunk)
        data = inflater.unconsumed_tail
        if not chunk and not data:
            break
    assert inflater.eof and size == 5 << 20  # and the Adler-32 matched
    assert len(raw.deflate_bomb()) < 3_000_000  # 2000 MiB inflated


def test_many_objects_claims_them_in_a_small_file() -> None:
    assert len(raw.many_objects()) < 100_000
    r = reader(raw.many_objects(1000))
    assert r.trailer["/Size"] == 1000
    assert len(raw.pages(r.root["/Pages"])) == 1
