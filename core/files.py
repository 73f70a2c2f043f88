"""Uploaded files: decide what a file really is from its content, never from
its name, and re-encode images so no metadata (GPS position, camera owner)
leaves the member's phone with them. Shared by every upload: a request's
attachments (tickets.files, with the request's limit) and the documents
staff publish (documents, which take PDF only: pdf_check).

Everything here reads a stranger's bytes, so every step is bounded before it
runs: images by their pixel count before a pixel is decoded, archives by
their directory before a byte is unpacked (core.archives), and Office files
are refused when they carry programs (macros, OLE objects, ActiveX) that
would run on a staff member's computer when the office opens them."""

import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from xml.parsers import expat

import olefile
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from core.archives import ArchiveRefused, zip_check, zip_read

# Above this many pixels an image is refused before it is decoded (60 MP
# take 180 MB as RGB). Pillow itself only warns up to twice this and
# refuses beyond; our own check below refuses the whole range.
MAX_IMAGE_PIXELS = 60_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
MAX_IMAGE_EDGE = 4000  # larger photos are scaled down; enough for any repair

# The formats phones and screenshots produce; Pillow tries no other decoder.
# TIFF, BMP, GIF, PSD, ICO, EPS (which runs Ghostscript) and Pillow's other
# three dozen readers never see a member's upload: each is one more parser
# of hostile input, and no member photographs a dripping tap in them.
IMAGE_OPENERS = ("JPEG", "PNG", "WEBP")
# Pillow's JPEG reader calls a phone's multi-picture JPEG (portrait mode,
# depth map) "MPO"; it is decoded by the same libjpeg.
IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
# iPhones save HEIC. Safari converts it to JPEG when a page asks for
# `image/*`, so only a file picked from the Files app arrives as HEIC; for
# those few a hint is cheaper than a second video-codec decoder (libheif and
# libde265, both with a long list of memory-safety fixes) on the server.
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}

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

# The parts of an Office file that are only ever read whole; real ones are a
# few kilobytes.
XML_PART_LIMIT = 1024 * 1024
# Content types and relationship types that mean a program inside: VBA
# projects (.docm/.xlsm and their binary twin .xlsb), Excel 4.0 macro sheets,
# ActiveX controls, OLE objects (Word's "Follina" was one, linked from a web
# server), Word's macro key bindings.
ACTIVE_CONTENT_TYPES = (
    "macroenabled",
    "vbaproject",
    "vbadata",
    "macrosheet",
    "activex",
    "oleobject",
    "keymapcustomizations",
)
ACTIVE_RELATIONSHIPS = {
    "vbaproject",
    "vbaprojectsignature",
    "wordvbadata",
    "oleobject",
    "activexcontrol",
    "activexcontrolbinary",
    "control",
    "keymapcustomizations",
}
MACRO_SUFFIXES = (
    ".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".xlsb", ".pptm", ".potm", ".ppsm", ".ppam",
)  # fmt: skip
# OpenDocument keeps Basic macros, their dialogs and scripts in these folders.
OPENDOCUMENT_SCRIPT_FOLDERS = {"basic", "dialogs", "scripts"}
# Excel 97: a sheet of type "Excel 4.0 macro" (1) or "VB module" (6).
XLS_BOUNDSHEET, XLS_EOF, XLS_FILEPASS = 0x0085, 0x000A, 0x002F
XLS_MACRO_SHEETS = {1, 6}


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    content_type: str
    name: str


class _Unsafe(Exception):
    """An XML part that declares a document type (and so could declare
    entities that expand a few bytes into gigabytes); no Office file does."""


class _Found(Exception):
    """Stops reading an XML part at the first element that answers."""


def _stem(name: str) -> str:
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return "".join(ch for ch in stem if ch.isalnum() or ch in " -_()")[:80].strip() or "datei"


# --- Images ---------------------------------------------------------------------


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” has too many pixels (at most %(limit)d megapixels). "
            "Please send a smaller version of the photo."
        )
        % {"name": name, "limit": MAX_IMAGE_PIXELS // 1_000_000},
        code="too_many_pixels",
    )


def _image_open(data: bytes, name: str) -> Image.Image | None:
    """The image as Pillow opened it (its header only, no pixel decoded yet),
    or None when it is not an image in an allowed format."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_OPENERS)
    except Image.DecompressionBombError as error:  # over twice the limit
        raise _too_many_pixels(name) from error
    if image.format not in IMAGE_FORMATS:
        image.close()
        return None
    if image.width * image.height > MAX_IMAGE_PIXELS:
        image.close()
        raise _too_many_pixels(name)
    return image


def _image(data: bytes, name: str) -> CleanFile | None:
    try:
        probe = _image_open(data, name)
        if probe is None:
            return None
        with probe:
            probe.verify()
        image = _image_open(data, name)
        if image is None:
            return None
        # Decodes the pixels (at most MAX_IMAGE_PIXELS of them), then scales down.
        image.thumbnail((MAX_IMAGE_EDGE, MAX_IMAGE_EDGE))
        image = ImageOps.exif_transpose(image)  # keep the photo upright, then drop EXIF
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        return None  # not an image, or a broken one
    if "transparency" in image.info:  # palette transparency lives in `info`
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "P"):
        return CleanFile(_image_save(image, "PNG"), "image/png", f"{_stem(name)}.png")
    return CleanFile(_image_save(image.convert("RGB"), "JPEG"), "image/jpeg", f"{_stem(name)}.jpg")


def _image_save(image: Image.Image, image_format: str) -> bytes:
    """Pixels only. Pillow writes some of what it read back out (a JPEG's
    comment, a PNG's colour profile), so `info` is emptied first: no
    comment, EXIF, XMP, text chunks or ICC profile. The ICC profile goes
    too: an iPhone's Display P3 photo then shows slightly less saturated,
    which no repair photo suffers from, and the office's viewers never
    parse a stranger's profile."""
    image.info = {}
    out = io.BytesIO()
    if image_format == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS


# --- Office files -----------------------------------------------------------------


def _xml_any(data: bytes, test: Callable[[str, dict[str, str]], bool]) -> bool:
    """Whether any element of an XML part passes `test(local name,
    attributes)`, read as a stream that keeps nothing. _Unsafe for a
    document type declaration, ExpatError for what is not XML."""

    def refuse(*args) -> None:
        raise _Unsafe

    def start(tag: str, attributes: dict[str, str]) -> None:
        if test(tag.rsplit(":", 1)[-1], attributes):
            raise _Found

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except _Found:
        return True
    return False


def _part_name(info: zipfile.ZipInfo) -> list[str]:
    """A member's path as Office resolves it: percent-decoded, any case."""
    return unquote(info.filename).replace("\\", "/").lower().split("/")


def _is_remote(target: str) -> bool:
    """Would following this link reach another computer (a web server, a
    Windows share that receives the staff member's login hash)?"""
    target = target.strip().replace("\\", "/")
    if target.startswith("//"):
        return True
    parts = urlsplit(target)
    if len(parts.scheme) <= 1:  # relative, or a drive letter such as C:/
        return False
    if parts.scheme.lower() == "file":
        return parts.netloc.lower() not in ("", "localhost")
    return True


def _has_ole_member(archive: zipfile.ZipFile) -> bool:
    """An OLE compound file inside an OOXML or OpenDocument file is always a
    program or a container for one: a VBA project, an ActiveX control, an
    embedded OLE object — whatever its name."""
    for info in archive.infolist():
        if info.is_dir() or info.file_size < len(olefile.MAGIC):
            continue
        with archive.open(info) as member:
            if member.read(len(olefile.MAGIC)) == olefile.MAGIC:
                return True
    return False


def _ooxml_has_active_content(
    archive: zipfile.ZipFile, *, limit: int, nested: bool = False
) -> bool:
    """Word/Excel files with macros (.docm/.xlsm under any name), macro
    sheets, ActiveX, OLE objects, or links that fetch content from another
    computer when the file is opened. Embedded Office files (a chart's data
    workbook) are checked the same way, one level deep."""
    for info in archive.infolist():
        path = _part_name(info)
        folders, base = set(path[:-1]), path[-1]
        if "vbaproject" in base or "vbadata" in base or "oleobject" in base:
            return True
        if folders & {"activex", "macrosheets"} or base.endswith(MACRO_SUFFIXES):
            return True
        if "embeddings" in folders and not info.is_dir():
            if base.endswith(".bin") or nested:
                return True
            if _embedded_package_has_active_content(archive, info, limit=limit):
                return True
    try:
        if any(_xml_part_is_active(archive, info) for info in archive.infolist()):
            return True
    except _Unsafe:
        return True
    return _has_ole_member(archive)


def _xml_part_is_active(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """The content types, the relationships (which part is what, and what
    is fetched from where) and Excel's links to other workbooks."""
    path = _part_name(info)
    if path == ["[content_types].xml"]:
        test = _is_active_content_type
    elif path[-1].endswith(".rels"):
        test = _is_active_relationship
    elif "externallinks" in path[:-1]:
        test = _is_program_link
    else:
        return False
    return _xml_any(zip_read(archive, info, limit=XML_PART_LIMIT), test)


def _is_active_content_type(_tag: str, attributes: dict[str, str]) -> bool:
    content_type = attributes.get("ContentType", "").lower()
    return any(word in content_type for word in ACTIVE_CONTENT_TYPES)


def _is_program_link(tag: str, _attributes: dict[str, str]) -> bool:
    # A link to another workbook may be a DDE or OLE link, which starts a
    # program when Excel updates the workbook.
    return tag in ("ddeLink", "oleLink")


def _is_active_relationship(_tag: str, attributes: dict[str, str]) -> bool:
    kind = attributes.get("Type", "").rsplit("/", 1)[-1].lower()
    if kind in ACTIVE_RELATIONSHIPS:
        return True
    # A link the reader follows (a hyperlink) is fine; one that Office
    # fetches by itself on opening is not.
    external = attributes.get("TargetMode", "").lower() == "external"
    return external and kind != "hyperlink" and _is_remote(attributes.get("Target", ""))


def _embedded_package_has_active_content(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, limit: int
) -> bool:
    """An embedded file must be a clean Word or Excel file (what Office puts
    there for a chart's data); anything else embedded is refused."""
    with archive.open(info) as member:
        if member.read(4) != b"PK\x03\x04":
            return True
    package = zip_read(archive, info, limit=limit)
    with zipfile.ZipFile(io.BytesIO(package)) as inner:
        zip_check(inner)
        if "[Content_Types].xml" not in inner.namelist():
            return True
        return _ooxml_has_active_content(inner, limit=limit, nested=True)


def _opendocument_has_active_content(archive: zipfile.ZipFile) -> bool:
    """LibreOffice Basic macros, their dialogs, scripts (Python, JavaScript,
    BeanShell) and OLE objects."""
    for info in archive.infolist():
        if _part_name(info)[0] in OPENDOCUMENT_SCRIPT_FOLDERS:
            return True
    return _has_ole_member(archive)


def _xls_has_macro_sheet(stream: bytes) -> bool:
    """Excel 4.0 macro sheets (the macros most Excel malware used) are
    sheets, not VBA streams: read the sheet list of the workbook's first
    part. An encrypted workbook cannot be checked and counts as one."""
    position = 0
    while position + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, position)
        data = stream[position + 4 : position + 4 + size]
        if kind == XLS_FILEPASS:
            return True
        if kind == XLS_BOUNDSHEET and len(data) >= 6 and data[5] in XLS_MACRO_SHEETS:
            return True
        if kind == XLS_EOF:
            return False
        position += 4 + size
    return False


def _legacy_office(data: bytes, name: str) -> CleanFile | None:
    """Word 97-2003 and Excel 97-2003 files (OLE2 compound files), still
    common among older members. Files with macros (VBA, Excel 4.0 macro
    sheets) are refused: a member never needs to send a program, and the
    office must never open one."""
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {
                "/".join(entry).lower() for entry in ole.listdir(streams=True, storages=True)
            }
            workbook = next((s for s in ("workbook", "book") if s in streams), None)
            sheets = ole.openstream(workbook).read() if workbook else b""
    except (OSError, ValueError, IndexError, struct.error):
        return None
    if any("vba" in stream or stream.startswith("macros") for stream in streams):
        return None
    if _xls_has_macro_sheet(sheets):
        return None
    for stream, (content_type, suffix) in OLE_OFFICE_TYPES.items():
        if stream in streams:
            return CleanFile(data, content_type, f"{_stem(name)}.{suffix}")
    return None


def _active_content(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” contains macros, embedded programs or links to other computers, "
            "which we cannot accept. Please save it without them, for example as PDF, "
            "and send it again."
        )
        % {"name": name},
        code="active_content",
    )


def _office_zip(
    archive: zipfile.ZipFile, name: str, data: bytes, *, limit: int
) -> CleanFile | None:
    names = archive.namelist()
    if "mimetype" in names:
        kind = zip_read(archive, "mimetype", limit=256).strip()
        if kind in OPENDOCUMENT:
            if _opendocument_has_active_content(archive):
                raise _active_content(name)
            return CleanFile(data, kind.decode(), f"{_stem(name)}.{OPENDOCUMENT[kind]}")
    if "[Content_Types].xml" in names:
        for prefix, (content_type, suffix) in OFFICE_ZIP_TYPES.items():
            if any(n.startswith(prefix) for n in names):
                if _ooxml_has_active_content(archive, limit=limit):
                    raise _active_content(name)
                return CleanFile(data, content_type, f"{_stem(name)}.{suffix}")
    return None


def _document(data: bytes, name: str, *, limit: int) -> CleanFile | None:
    if data.startswith(olefile.MAGIC):
        return _legacy_office(data, name)
    if data.startswith(b"%PDF-"):
        return CleanFile(data, "application/pdf", f"{_stem(name)}.pdf")
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                zip_check(archive)
                return _office_zip(archive, name, data, limit=limit)
        except ArchiveRefused as error:
            raise ValidationError(
                _(
                    "“%(name)s” unpacks to far more data than an Office file holds, "
                    "so we cannot check it. Please save it as PDF and send it again."
                )
                % {"name": name},
                code="archive",
            ) from error
        # Broken archives, encrypted members, unknown compression, broken XML.
        except (
            zipfile.BadZipFile,
            zlib.error,
            EOFError,
            RuntimeError,
            NotImplementedError,
            OSError,
            ValueError,
            struct.error,
            expat.ExpatError,
        ):
            return None
    return None


def file_clean(upload, *, limit: int) -> CleanFile:
    """A safe copy of an uploaded file of at most `limit` bytes, or
    ValidationError with a clear message."""
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
    cleaned = _image(data, upload.name) or _document(data, upload.name, limit=limit)
    if cleaned is None and _is_heif(data):
        raise ValidationError(
            _(
                "“%(name)s” is a HEIC photo, which we cannot open. Please send it as JPEG: "
                "on an iPhone, choose “Most Compatible” under Settings › Camera › Formats, "
                "or share the photo from the Photos app."
            )
            % {"name": upload.name},
            code="heic",
        )
    if cleaned is None:
        raise ValidationError(
            _(
                "“%(name)s” cannot be accepted. Please send photos (JPEG, PNG, WebP), "
                "PDF files or Word, Excel or OpenDocument files."
            )
            % {"name": upload.name},
            code="type",
        )
    return cleaned


# --- PDF documents as a whole -------------------------------------------------------

# What makes a PDF one a member cannot open, or should not: a password
# (the ERP's "protected" export), scripts and actions that start programs.
# Names as they stand in an uncompressed dictionary; a name hidden in a
# compressed object stream is not seen. The check is there for mistakes
# (a wrong export, a truncated copy), not as a virus scanner: documents
# come from the office's own systems.
_PDF_NAMES = re.compile(rb"/(Encrypt|JavaScript|JS|Launch)(?=[\s/<>\[\]()%]|$)")
_PDF_NAME_PROBLEMS = {b"Encrypt": "encrypted", b"JavaScript": "active", b"JS": "active"}
# A complete PDF ends with %%EOF (and perhaps a line break or a few bytes
# of padding) within its last kilobyte; a copy cut short has none.
PDF_TAIL_BYTES = 1024
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class PdfChecked:
    """What pdf_check found: `problem` is None for a PDF to publish, else
    one of "empty", "too_large", "not_pdf", "broken", "encrypted",
    "active"; the size read and the content's SHA-256 (hex)."""

    problem: str | None
    size: int
    sha256: str


def pdf_check(chunks: Iterable[bytes], *, limit: int) -> PdfChecked:
    """Judge a file as a PDF to hand to members, from its bytes as they
    come (any chunk size: an upload's chunks, a file read in steps), so a
    large file is never held whole. Stops reading past `limit` bytes."""
    digest = hashlib.sha256()
    head = b""
    tail = b""
    carry = b""
    size = 0
    found: set[str] = set()
    for chunk in chunks:
        if not chunk:
            continue
        size += len(chunk)
        if size > limit:
            return PdfChecked("too_large", size, "")
        digest.update(chunk)
        if len(head) < 5:
            head += chunk[: 5 - len(head)]
        window = carry + chunk
        for match in _PDF_NAMES.finditer(window):
            found.add(_PDF_NAME_PROBLEMS.get(match[1], "active"))
        # A name split between two chunks is found in the next window.
        carry = window[-16:]
        tail = (tail + chunk)[-PDF_TAIL_BYTES:]
    if size == 0:
        return PdfChecked("empty", 0, "")
    if head != b"%PDF-":
        return PdfChecked("not_pdf", size, "")
    if b"%%EOF" not in tail:
        return PdfChecked("broken", size, "")
    for problem in ("encrypted", "active"):
        if problem in found:
            return PdfChecked(problem, size, "")
    return PdfChecked(None, size, digest.hexdigest())


def file_chunks(file, *, size: int = CHUNK_BYTES) -> Iterable[bytes]:
    """A file object's bytes from its start, `size` at a time."""
    file.seek(0)
    while chunk := file.read(size):
        yield chunk
