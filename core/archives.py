"""Opening ZIP archives that strangers sent (Office uploads, later bulk
document imports). A few hundred kilobytes can unpack to gigabytes, so an
archive is judged by its central directory before a single byte is
unpacked (zip_check), and a member is unpacked in small steps that stop
at a limit (zip_read), whatever the directory claims.

Python's zipfile never unpacks more of a member than the directory's size
for it (a member that holds more fails its CRC check), so the sizes that
zip_check adds up bound what any later read can cost."""

import struct
import zipfile

from django.conf import settings

# Small members may pack as tightly as they like: below this size the ratio
# says nothing (a short run of spaces packs 100:1), and they cost nothing.
RATIO_GRACE_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
# The end of central directory record, and ZIP64's record and its locator.
_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END_SEARCH = 22 + 65535 + 20  # the record, the longest comment, the locator


class ArchiveRefused(ValueError):
    """The archive (or one member) would unpack to more than the limits allow."""


def zip_check(
    zf: zipfile.ZipFile,
    *,
    max_entries: int | None = None,
    max_total: int | None = None,
    max_ratio: float | None = None,
) -> None:
    """Raise ArchiveRefused unless the archive has at most `max_entries`
    members, unpacks to at most `max_total` bytes in all, and no member
    larger than RATIO_GRACE_BYTES packs tighter than `max_ratio`:1.
    Unset limits come from settings (ARCHIVE_MAX_ENTRIES, …)."""
    if max_entries is None:
        max_entries = settings.ARCHIVE_MAX_ENTRIES
    if max_total is None:
        max_total = settings.ARCHIVE_MAX_UNPACKED_BYTES
    if max_ratio is None:
        max_ratio = settings.ARCHIVE_MAX_RATIO
    members = zf.infolist()
    if len(members) > max_entries:
        raise ArchiveRefused(f"{len(members)} entries, at most {max_entries} allowed")
    total = 0
    for info in members:
        total += info.file_size
        if total > max_total:
            raise ArchiveRefused(f"unpacks to more than {max_total} bytes")
        if info.file_size > RATIO_GRACE_BYTES and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            raise ArchiveRefused(
                f"{info.filename!r} packs {info.file_size} bytes into {info.compress_size}"
            )


def zip_read(zf: zipfile.ZipFile, name: str | zipfile.ZipInfo, *, limit: int) -> bytes:
    """The member `name`, unpacked in chunks; ArchiveRefused as soon as it
    turns out longer than `limit` bytes (at most `limit` + one chunk is ever
    held). zipfile's own errors (BadZipFile, encrypted members …) pass on."""
    parts: list[bytes] = []
    size = 0
    with zf.open(name) as member:
        while chunk := member.read(min(CHUNK_BYTES, limit - size + 1)):
            size += len(chunk)
            if size > limit:
                raise ArchiveRefused(f"{name!r} is longer than {limit} bytes")
            parts.append(chunk)
    return b"".join(parts)


def zip_declared(file) -> tuple[int, int]:
    """How many entries an archive (a seekable binary file) says it holds,
    and how many bytes its central directory takes, read from its end
    record alone. zipfile reads the whole directory into memory and makes
    an object for every entry as it opens an archive: a few megabytes of
    directory can declare millions of entries, so this comes first.
    zipfile.BadZipFile when there is no end record."""
    file.seek(0, 2)
    end = file.tell()
    file.seek(max(0, end - _END_SEARCH))
    tail = file.read()
    at = tail.rfind(_END)
    if at < 0 or len(tail) < at + 22:
        raise zipfile.BadZipFile("no end of central directory record")
    entries, size = struct.unpack_from("<HI", tail, at + 10)
    locator = tail.rfind(_END64_LOCATOR, 0, at)
    if (entries == 0xFFFF or size == 0xFFFFFFFF) and locator >= 0 and len(tail) >= locator + 20:
        (offset,) = struct.unpack_from("<Q", tail, locator + 8)
        file.seek(offset)
        record = file.read(56)
        if len(record) == 56 and record[:4] == _END64:
            entries, size = struct.unpack_from("<QQ", record, 32)
    file.seek(0)
    return entries, size
