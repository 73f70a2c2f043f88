from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """Documents for members (issue 15, point 1) — service-charge
    statements, letters, contract copies, invitations — addressed to a
    member, a contract or a flat, published one at a time or as a checked
    batch; and blank forms to download (point 2). A use case beside
    `tickets` and `notices` (none imports another): the request form shows
    the forms of its type through this app's template tags, and Mein
    Bereich counts the new documents through `documents.selectors`."""

    name = "documents"
    verbose_name = _("documents")
