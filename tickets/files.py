"""A request's attachments: the checks every upload gets (core.files),
with the size a request allows each file."""

from django.conf import settings

from core.files import CleanFile
from core.files import file_clean as _file_clean

__all__ = ["CleanFile", "file_clean"]


def file_clean(upload) -> CleanFile:
    """A safe copy of a member's (or a mail's) attachment, or
    ValidationError with a clear message."""
    return _file_clean(upload, limit=settings.TICKET_ATTACHMENT_MAX_BYTES)
