"""Opening ZIP archives that strangers sent (Office uploads, later bulk
document imports). A few hundred kilobytes can unpack to gigabytes, so an
archive is judged by its central directory before a single byte is
unpacked (zip_check), and a member is unpacked in small steps that stop
at a limit (zip_read), whatever the directory claims.

Python's zipfile never unpacks more of a member than the directory's size
for it (a member that holds more fails its CRC check), so the sizes that
zip_check adds up bound what any later read can cost."""

import zipfile

from django.conf import settings

# Small members may pack as tightly as they like: below this size the ratio
# says nothing (a short run of spaces packs 100:1), and they cost nothing.
RATIO_GRACE_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024


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
