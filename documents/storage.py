"""Where members' documents and blank forms are kept: a folder of their
own (settings.PRIVATE_ROOT), apart from the media files, and without any
URL. A file leaves only through a view that checked who asks
(documents.views, backoffice.views.documents)."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateStorage(FileSystemStorage):
    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        # Read again when the setting changes (tests give each run a folder).
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("private files have no URL; a checked view sends them")


_private = PrivateStorage()


def private_storage() -> PrivateStorage:
    """The storage of FileFields that hold private files (a callable, so a
    migration names this function rather than a folder)."""
    return _private
