"""Reading an upload of documents into a report, file by file, before
anything is published: which addressee each file is for, and whether it
is a PDF a member can open.

Files come as PDFs, as ZIP archives, or both. The number of the member or
contract a file is for is in its name, `<number>_<anything>.pdf` or
`<number>.pdf` (the part before the first underscore: "20001_Abrechnung
2025.pdf", "NV-0101900.pdf"), or, in a ZIP, in an `index.csv` at its top
level, which then decides for every file of that archive: two columns,
the file's path in the archive and the number, separated by semicolons
(or commas), UTF-8 or Windows-1252, an optional header row
(`Datei;Nummer`).

Every file gets a line in the report, in the order they came; a file
that fails is refused alone, with the reason. Checks, cheapest first:
an unsafe name (a path that climbs out with "..", an absolute path), the
number (none, unknown, twice in the upload, already published for that
addressee), then the size as declared (an upload's, a ZIP's directory's),
a ZIP entry that packs far tighter than documents do, and finally the
content, read in chunks of at most the size allowed: a PDF, complete, not
password-protected, without scripts (core.files.pdf_check).

A ZIP is judged by its end record before zipfile reads its directory
(core.archives.zip_declared), and by the sizes its directory declares
before a byte is unpacked; each entry is unpacked in steps that stop at
the limit (core.archives.zip_read), whatever the directory said.
Files that pass are written to the private storage as they are checked,
one at a time; the caller deletes them again when the upload goes no
further (documents.services)."""

import csv
import io
import posixpath
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core.archives import RATIO_GRACE_BYTES, ArchiveRefused, zip_declared, zip_read
from core.files import file_chunks, pdf_check
from documents.models import Addressed, document_path
from documents.storage import private_storage

INDEX_NAME = "index.csv"
INDEX_MAX_BYTES = 5 * 1024 * 1024
# Bytes of central directory allowed per declared entry: names of a few
# hundred characters and their extra fields.
DIRECTORY_BYTES_PER_ENTRY = 1024
# What Macs and Windows add to archives; never a document.
_IGNORED_FOLDERS = {"__macosx"}
_IGNORED_NAMES = {"thumbs.db", "desktop.ini"}


@dataclass
class Entry:
    """One file of an upload, as the report shows it. `problem` is empty
    for a file to publish (then `path`, `size`, `sha256` and `addressee`,
    a member's or a contract's id, are set)."""

    name: str
    number: str = ""
    problem: str = ""
    detail: dict = field(default_factory=dict)
    size: int = 0
    sha256: str = ""
    path: str = ""
    addressee: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problem

    def refuse(self, problem: str, **detail) -> None:
        self.problem = problem
        self.detail = detail

    def as_dict(self) -> dict:
        return asdict(self)


def problem_text(problem: str, detail: dict) -> str:
    """The reason a file is refused, in the reader's language."""
    texts = {
        "unsafe_name": _(
            "The name leaves the archive's folders (“..” or an absolute path); such "
            "files are refused."
        ),
        "no_number": _(
            "No number in the name. Name the file “<number>_<anything>.pdf” or list it "
            "in index.csv."
        ),
        "unknown_number": _("No member or contract has the number %(number)s."),
        "unknown_member": _("No member has the number %(number)s."),
        "unknown_contract": _("No contract has the number %(number)s."),
        "duplicate": _(
            "%(count)s files of this upload are for the same addressee; none of them is "
            "published. Upload the right one again."
        ),
        "published": _(
            "This addressee already has this document (same kind, title and time); "
            "withdraw that one first to replace it."
        ),
        "too_large": _("%(size)s; a document may be at most %(limit)s."),
        "empty": _("The file is empty."),
        "not_pdf": _("Not a PDF file (judged by its content, not its name)."),
        "broken": _("The PDF is incomplete or damaged (cut short?)."),
        "encrypted": _("The file is password-protected; members could not open it."),
        "active": _(
            "The PDF contains scripts or actions that start programs; export it again without them."
        ),
        "bomb": _(
            "The entry packs %(size)s into %(packed)s, far tighter than any PDF; it was "
            "not unpacked."
        ),
        "archive_broken": _("Not a ZIP archive that can be read."),
        "archive_entries": _(
            "The archive holds %(count)s entries; at most %(limit)s are taken. Split it up."
        ),
        "archive_size": _(
            "The archive unpacks to %(size)s; at most %(limit)s are taken at once. Split it up."
        ),
        "too_many_files": _(
            "More than %(limit)s files in one upload; this one and the rest were not read."
        ),
        "index_broken": _(
            "index.csv cannot be read: %(reason)s. Expected: file name;number on each line."
        ),
        "not_in_index": _("The archive has an index.csv, which does not list this file."),
        "index_missing": _("Listed in index.csv, but not in the archive."),
    }
    params = dict(detail)
    for key in ("size", "packed"):
        if isinstance(params.get(key), int):
            params[key] = filesizeformat(params[key])
    if "limit_bytes" in params:
        params["limit"] = filesizeformat(params.pop("limit_bytes"))
    text = texts.get(problem, problem)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


# --- Names ---------------------------------------------------------------------------


def name_is_unsafe(name: str) -> bool:
    """A path that would leave the folder it is unpacked into: absolute
    (/…, \\…, C:…) or climbing out with "..". Never used as a path here
    (files are stored under random names), but a sign of a crafted archive."""
    path = name.replace("\\", "/")
    if "\x00" in path or path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return True
    return ".." in path.split("/")


def number_from_name(name: str) -> str:
    """The number in a file's name: the part of its base name before the
    first underscore, or the whole base name without ".pdf"."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base[:-4] if base.lower().endswith(".pdf") else base
    return stem.split("_", 1)[0].strip()


def _ignored(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    base = parts[-1].lower()
    return (
        bool(_IGNORED_FOLDERS & {part.lower() for part in parts[:-1]})
        or base.startswith(".")
        or base in _IGNORED_NAMES
    )


def _normal(path: str) -> str:
    return posixpath.normpath(path.replace("\\", "/").strip()).lstrip("./").lower()


def index_read(data: bytes) -> dict[str, str]:
    """index.csv as {path in the archive (normalised): number}; ValueError
    with the reason when it cannot be read."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # cp1252 decodes nearly anything; this is for the few bytes it does not
        raise ValueError(_("unknown character encoding"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";"
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if rows and rows[0][0].strip().lower() in ("datei", "file", "dateiname", "file name"):
        rows = rows[1:]
    mapping: dict[str, str] = {}
    for line, row in enumerate(rows, start=1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ValueError(_("line %(line)s has no file name and number") % {"line": line})
        mapping[_normal(row[0])] = row[1].strip()
    if not mapping:
        raise ValueError(_("it lists no files"))
    return mapping


# --- Reading the files ---------------------------------------------------------------


@dataclass
class _Candidate:
    entry: Entry
    upload: object = None  # an uploaded PDF
    archive: zipfile.ZipFile | None = None
    info: zipfile.ZipInfo | None = None


def _refused(name: str, problem: str, **detail) -> _Candidate:
    entry = Entry(name=name)
    entry.refuse(problem, **detail)
    return _Candidate(entry=entry)


def _archive_candidates(upload) -> Iterator[_Candidate]:
    """The files of one ZIP, and lines for what is wrong with the archive
    as a whole (then it is not opened further)."""
    label = upload.name
    max_files = settings.DOCUMENT_BATCH_MAX_FILES
    try:
        upload.open("rb")
        handle = getattr(upload, "file", upload)
        declared, directory = zip_declared(handle)
        if declared > max_files or directory > max_files * DIRECTORY_BYTES_PER_ENTRY:
            yield _refused(label, "archive_entries", count=declared, limit=max_files)
            return
        archive = zipfile.ZipFile(handle)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        yield _refused(label, "archive_broken")
        return
    total = sum(info.file_size for info in infos)
    if total > settings.DOCUMENT_BATCH_MAX_BYTES:
        limit = settings.DOCUMENT_BATCH_MAX_BYTES
        yield _refused(label, "archive_size", size=total, limit_bytes=limit)
        return
    files = [info for info in infos if not info.is_dir() and not _ignored(info.filename)]
    index_info = next((i for i in files if _normal(i.filename) == INDEX_NAME), None)
    index: dict[str, str] | None = None
    if index_info is not None:
        files.remove(index_info)
        try:
            index = index_read(zip_read(archive, index_info, limit=INDEX_MAX_BYTES))
        except (ValueError, ArchiveRefused, RuntimeError, zipfile.BadZipFile, zlib.error) as error:
            yield _refused(f"{label} › {index_info.filename}", "index_broken", reason=str(error))
            return
    listed: set[str] = set()
    for info in files:
        entry = Entry(name=f"{label} › {info.filename}", size=info.file_size)
        if name_is_unsafe(info.filename):
            entry.refuse("unsafe_name")
        elif index is not None:
            key = _normal(info.filename)
            listed.add(key)
            entry.number = index.get(key, "")
            if not entry.number:
                entry.refuse("not_in_index")
        else:
            entry.number = number_from_name(info.filename)
        yield _Candidate(entry=entry, archive=archive, info=info)
    for path, number in (index or {}).items():
        if path not in listed:
            missing = _refused(f"{label} › {path}", "index_missing")
            missing.entry.number = number
            yield missing


def _is_archive(upload) -> bool:
    return upload.name.lower().endswith(".zip")


def candidates_of(uploads: list) -> list[_Candidate]:
    """Every file of the uploads (PDFs, and the files in ZIPs) in order,
    with its number and the refusals found from names alone, and a line
    for each archive refused as a whole."""
    found: list[_Candidate] = []
    for upload in uploads:
        if _is_archive(upload):
            found.extend(_archive_candidates(upload))
        else:
            entry = Entry(name=upload.name, size=upload.size)
            if name_is_unsafe(upload.name):
                entry.refuse("unsafe_name")
            else:
                entry.number = number_from_name(upload.name)
            found.append(_Candidate(entry=entry, upload=upload))
    limit = settings.DOCUMENT_BATCH_MAX_FILES
    for candidate in found[limit:]:
        if candidate.entry.ok:
            candidate.entry.refuse("too_many_files", limit=limit)
    return found


def numbers_resolve(candidates: list[_Candidate], *, numbers: str, lookup: dict[str, int]) -> None:
    """Set each file's addressee from `lookup` (number → id of a member or
    contract, read in one query by the caller); refuse the unknown, and
    every file of a number that comes twice."""
    unknown = "unknown_member" if numbers == Addressed.MEMBER else "unknown_contract"
    for candidate in candidates:
        entry = candidate.entry
        if not entry.ok:
            continue
        if not entry.number:
            entry.refuse("no_number")
            continue
        entry.addressee = lookup.get(entry.number)
        if entry.addressee is None:
            entry.refuse(unknown, number=entry.number)
    counts = Counter(c.entry.addressee for c in candidates if c.entry.ok)
    for candidate in candidates:
        entry = candidate.entry
        if entry.ok and counts[entry.addressee] > 1:
            entry.refuse("duplicate", count=counts[entry.addressee])


def published_refuse(candidates: list[_Candidate], already: set[int]) -> None:
    for candidate in candidates:
        if candidate.entry.ok and candidate.entry.addressee in already:
            candidate.entry.refuse("published")


def _content(candidate: _Candidate, limit: int) -> tuple[object, list[bytes] | None]:
    """(chunks to check, the bytes when they were read whole) of one file."""
    if candidate.upload is not None:
        return file_chunks(candidate.upload.open("rb")), None
    data = zip_read(candidate.archive, candidate.info, limit=limit)
    return [data], [data]


def content_check(candidate: _Candidate, *, written: list[str]) -> None:
    """Size, packing and content of one file that passed so far; a file
    that passes is written to the private storage (its name appended to
    `written`, so the caller can take it back)."""
    entry = candidate.entry
    limit = settings.DOCUMENT_MAX_BYTES
    if entry.size > limit:
        entry.refuse("too_large", size=entry.size, limit_bytes=limit)
        return
    info = candidate.info
    # As core.archives.zip_check judges an Office file's parts, per entry.
    if (
        info is not None
        and info.file_size > RATIO_GRACE_BYTES
        and info.file_size > settings.ARCHIVE_MAX_RATIO * max(info.compress_size, 1)
    ):
        entry.refuse("bomb", size=info.file_size, packed=info.compress_size)
        return
    try:
        chunks, whole = _content(candidate, limit)
        checked = pdf_check(chunks, limit=limit)
    except ArchiveRefused:
        entry.refuse("too_large", size=limit + 1, limit_bytes=limit)
        return
    except RuntimeError:  # zipfile: an encrypted entry, and no password
        entry.refuse("encrypted")
        return
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError):
        entry.refuse("broken")
        return
    if checked.problem == "too_large":
        entry.refuse("too_large", size=checked.size, limit_bytes=limit)
        return
    if checked.problem:
        entry.refuse(checked.problem)
        return
    entry.size, entry.sha256 = checked.size, checked.sha256
    storage = private_storage()
    content = ContentFile(whole[0]) if whole is not None else File(candidate.upload.open("rb"))
    entry.path = storage.save(document_path(None, entry.name), content)
    written.append(entry.path)


def files_delete(paths: list[str]) -> None:
    """Take back files written for an upload that went no further."""
    storage = private_storage()
    for path in paths:
        storage.delete(path)


def candidates_close(candidates: list[_Candidate]) -> None:
    for archive in {id(c.archive): c.archive for c in candidates if c.archive}.values():
        archive.close()


def single_candidate(upload) -> _Candidate:
    """One uploaded PDF for an addressee the staff member chose."""
    entry = Entry(name=upload.name, size=upload.size)
    if name_is_unsafe(upload.name):
        entry.refuse("unsafe_name")
    return _Candidate(entry=entry, upload=upload)
