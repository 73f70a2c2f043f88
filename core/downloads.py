"""Sending a stored file: streamed in blocks (FileResponse never reads a
file whole), always as a download (Content-Disposition: attachment, so
a PDF never opens inside the portal's origin), its type taken as given
(nosniff), and kept by no cache (a member's statement on a shared
computer)."""

from django.http import FileResponse


def file_response(file, *, filename: str, content_type: str = "application/pdf") -> FileResponse:
    response = FileResponse(file, content_type=content_type, as_attachment=True, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
