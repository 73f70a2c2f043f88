"""Uploads are judged by their content, never by their name."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets.files import file_clean

DATA = Path(__file__).parent / "data" / "files"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def zipped(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def renamed_stream(content: bytes, old: str, new: str) -> bytes:
    """The same compound file with one directory entry renamed (same length)."""
    assert len(old) == len(new)
    before, after = old.encode("utf-16-le"), new.encode("utf-16-le")
    assert content.count(before) >= 1
    return content.replace(before, after)


def test_pdf_and_opendocument_and_ooxml_are_recognised_whatever_their_name():
    cases = [
        (b"%PDF-1.7\n%...", "application/pdf", "pdf"),
        (
            zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": ""}),
            "application/vnd.oasis.opendocument.text",
            "odt",
        ),
        (
            zipped({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"}),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        (
            zipped({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    ]
    for content, content_type, suffix in cases:
        cleaned = file_clean(upload("Brief vom Amt.bin", content))
        assert cleaned.content_type == content_type
        assert cleaned.name == f"Brief vom Amt.{suffix}"


@pytest.mark.parametrize(
    "fixture, content_type, suffix",
    [
        ("brief.doc", "application/msword", "doc"),
        ("zaehler.xls", "application/vnd.ms-excel", "xls"),
    ],
)
def test_word_and_excel_97_files_are_accepted(fixture, content_type, suffix):
    content = (DATA / fixture).read_bytes()
    cleaned = file_clean(upload("scan.pdf", content))  # the name lies; the content decides
    assert (cleaned.content_type, cleaned.name) == (content_type, f"scan.{suffix}")
    assert cleaned.content == content


def test_a_word_file_with_macros_is_refused():
    content = renamed_stream((DATA / "brief.doc").read_bytes(), "1Table", "Macros")
    with pytest.raises(ValidationError) as refused:
        file_clean(upload("brief.doc", content))
    assert refused.value.code == "type"


@pytest.mark.parametrize(
    "content",
    [
        # A compound file that is neither Word nor Excel (say, PowerPoint).
        renamed_stream((DATA / "brief.doc").read_bytes(), "WordDocument", "PowerPointDc"),
        # Cut off after the header: not a readable compound file.
        (DATA / "brief.doc").read_bytes()[:600],
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        b"MZ\x90\x00" + b"\x00" * 200,  # a Windows program called .doc
        zipped({"evil.exe": "MZ"}),  # a zip that is not an office file
        b"plain text pretending to be a PDF",
    ],
)
def test_everything_else_is_refused(content):
    with pytest.raises(ValidationError) as refused:
        file_clean(upload("rechnung.doc", content))
    assert refused.value.code == "type"
    assert "rechnung.doc" in refused.value.messages[0]
