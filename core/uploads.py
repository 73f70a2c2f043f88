"""Receiving uploads: a form field for several files at once, and a limit
on how many bytes one request may upload to a view.

Django parses a multipart body the first time anything reads request.POST
or request.FILES — here already in a middleware (core.middleware looks for
NUL characters), before any view runs. So a view cannot set its own upload
handler; the one handler in settings.FILE_UPLOAD_HANDLERS (first, before
Django's own) asks the view that will answer, by its URL, for its limit
(`upload_limit`). Views without one are left as Django handles them.

Over the limit nothing of the files is stored: the form's text fields
that come before them are parsed (the form keeps what was typed), the
first file stops the parsing, and the rest of the body is read and
dropped without being kept (StopUpload without a connection reset, so the
browser gets the answer). Files below Django's FILE_UPLOAD_MAX_MEMORY_SIZE
for the whole request stay in memory; anything larger goes to temporary
files on disk, in chunks: a large upload is never held in memory."""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.urls import Resolver404, resolve


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def upload_limit(limit: Callable[[], int]):
    """Mark a view: a request to it may upload at most `limit()` bytes in
    all (a callable, so tests and settings changes are read when the
    request comes). Over it, `request.upload_refused` is (size, limit) and
    request.FILES holds nothing; the view says so."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            return view(request, *args, **kwargs)

        wrapper.upload_limit = limit
        return wrapper

    return decorate


def _limit_for(path: str) -> int | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    limit = getattr(match.func, "upload_limit", None)
    return limit() if limit is not None else None


class UploadLimitHandler(FileUploadHandler):
    """The limit of `upload_limit`, checked on the request's declared size
    before a byte of it is read (the server reads no more than that)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.refused = False
        limit = _limit_for(self.request.path_info)
        if limit is not None and content_length > limit:
            self.refused = True
            self.request.upload_refused = (content_length, limit)
        return None  # Django parses on: the text fields are kept

    def new_file(self, *args, **kwargs):
        if self.refused:
            raise StopUpload(connection_reset=False)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
