"""Writing the export's ZIP: data.json, the readable summary, the files.

The ZIP is written into a file (never built in memory): data.json is
streamed into its member, each stored file copied in chunks, so a member
with thousands of attachments costs the worker a buffer, not the sum of
their sizes."""

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cooperative.letterhead import letterhead_facts, logo_data_uri
from cooperative.models import Cooperative
from core.pdf import render_pdf
from privacy.selectors import ExportFile

CHUNK = 1024 * 1024
# Already compressed: stored as they are instead of deflated again.
STORED_TYPES = ("image/", "application/pdf", "application/zip", "application/vnd.openxmlformats")

SUMMARY_TEMPLATE = "privacy/summary.html"


def summary_file(*, data: dict, language: str) -> tuple[str, bytes]:
    """The readable summary of data.json, as the cooperative's letter to the
    member (core.pdf: WeasyPrint, DIN 5008, the letterhead): its name in
    the ZIP and its bytes."""
    cooperative = Cooperative.objects.current()
    member = data["member"]
    name = " ".join(p for p in (member["title"], member["first_name"], member["last_name"]) if p)
    recipient = [name]
    if member["street"]:
        recipient += [member["street"], f"{member['postcode']} {member['city']}".strip()]
    elif data["contracts"]:  # the postal address is the flat's
        unit = data["contracts"][-1]["unit"]
        recipient += [unit["street"], f"{unit['postcode']} {unit['city']}".strip()]
    with translation.override(language):
        info = [
            (_("Member number"), member["member_number"]),
            (_("Date"), date_format(timezone.localdate(), "DATE_FORMAT")),
        ]
    context = {
        "data": data,
        "letterhead": letterhead_facts(cooperative),
        "logo": logo_data_uri(cooperative),
        "recipient": recipient,
        "info": info,
    }
    return "uebersicht.pdf", render_pdf(
        template_name=SUMMARY_TEMPLATE, context=context, language=language
    )


def _info(path: str, content_type: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0))
    stored = any(content_type.startswith(kind) for kind in STORED_TYPES)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def zip_write(
    target: BinaryIO,
    *,
    data: dict,
    summary: tuple[str, bytes],
    readme: str,
    files: Iterable[ExportFile],
) -> None:
    """Write the export into `target` (a file opened for writing). A stored
    file that cannot be read raises: an export is complete or not offered."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(_info("data.json", "application/json"), "w") as member:
            text = io.TextIOWrapper(member, encoding="utf-8")
            json.dump(data, text, ensure_ascii=False, indent=2)
            text.flush()
            text.detach()
        name, content = summary
        archive.writestr(_info(name, "application/pdf"), content)
        archive.writestr(_info("LIESMICH.txt", "text/plain"), readme.encode("utf-8"))
        for file in files:
            with (
                file.storage.open(file.storage_name, "rb") as source,
                archive.open(_info(file.path, file.content_type), "w") as member,
            ):
                shutil.copyfileobj(source, member, CHUNK)


def sha256_of(handle: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and size of a file, read in chunks from its start."""
    handle.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return digest.hexdigest(), size
