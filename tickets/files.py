"""Uploaded files: decide what a file really is from its content, never from
its name, and re-encode images so no metadata (GPS position, camera owner)
leaves the member's phone with them."""

import io
import struct
import zipfile
from dataclasses import dataclass

import olefile
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Pillow refuses images above this many pixels (decompression bombs).
Image.MAX_IMAGE_PIXELS = 60_000_000
MAX_IMAGE_EDGE = 4000  # larger photos are scaled down; enough for any repair

OFFICE_ZIP_TYPES = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
OLE_OFFICE_TYPES = {
    "worddocument": ("application/msword", "doc"),
    "workbook": ("application/vnd.ms-excel", "xls"),
    "book": ("application/vnd.ms-excel", "xls"),  # Excel 5/95
}
OPENDOCUMENT = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
}


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    name: str


def _stem(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return "".join(ch for ch in stem if ch.isalnum() or ch in " -_()")[:80].strip() or "datei"


def _image(data: bytes, name: str) -> CleanFile | None:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        return None
    image = ImageOps.exif_transpose(image)  # keep the photo upright, then drop EXIF
    image.thumbnail((MAX_IMAGE_EDGE, MAX_IMAGE_EDGE))
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and image.format != "JPEG":
        image.save(out, "PNG", optimize=True)
        return CleanFile(out.getvalue(), "image/png", f"{_stem(name)}.png")
    image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    return CleanFile(out.getvalue(), "image/jpeg", f"{_stem(name)}.jpg")


def _legacy_office(data: bytes, name: str) -> CleanFile | None:
    """Word 97-2003 and Excel 97-2003 files (OLE2 compound files), still
    common among older members. Files with macros are refused: a member
    never needs to send a program, and the office must never open one."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {
                "/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)
            }
    except (OSError, ValueError, IndexError, struct.error):
        return None
    if any("vba" in stream or stream.startswith("macros") for stream in streams):
        return None
    for stream, (content_type, suffix) in OLE_OFFICE_TYPES.items():
        if stream in streams:
            return CleanFile(data, content_type, f"{_stem(name)}.{suffix}")
    return None


def _document(data: bytes, name: str) -> CleanFile | None:
    if data.startswith(olefile.MAGIC):
        return _legacy_office(data, name)
    if data.startswith(b"%PDF-"):
        return CleanFile(data, "application/pdf", f"{_stem(name)}.pdf")
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
                if "mimetype" in names:
                    kind = archive.read("mimetype").strip()
                    if kind in OPENDOCUMENT:
                        return CleanFile(data, kind.decode(), f"{_stem(name)}.{OPENDOCUMENT[kind]}")
                if "[Content_Types].xml" in names:
                    for prefix, (content_type, suffix) in OFFICE_ZIP_TYPES.items():
                        if any(n.startswith(prefix) for n in names):
                            return CleanFile(data, content_type, f"{_stem(name)}.{suffix}")
        except zipfile.BadZipFile:
            return None
    return None


def file_clean(upload) -> CleanFile:
    """A safe copy of an uploaded file, or ValidationError with a clear message."""
    limit = settings.TICKET_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s; files may be at most %(limit)s.")
            % {
                "name": upload.name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(limit),
            },
            code="too_large",
        )
    data = upload.read()
    cleaned = _image(data, upload.name) or _document(data, upload.name)
    if cleaned is None:
        raise ValidationError(
            _(
                "“%(name)s” cannot be accepted. Please send photos (JPEG, PNG), "
                "PDF files or Word, Excel or OpenDocument files."
            )
            % {"name": upload.name},
            code="type",
        )
    return cleaned
