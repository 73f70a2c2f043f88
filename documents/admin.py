"""Blank forms to download, kept by admins in the administration (like the
request forms they belong to). Members' documents are not here: they are
worked in the back office (/bearbeitung/dokumente/), where who may see
them is decided and recorded."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from documents.forms import FormAdminForm
from documents.models import Form


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    form = FormAdminForm
    list_display = ["title_de", "topic", "position", "active", "file_size"]
    list_filter = ["topic", "active"]
    search_fields = ["title_de", "title_en", "slug"]
    prepopulated_fields = {"slug": ["title_de"]}
    filter_horizontal = ["request_types"]

    @admin.display(description=_("size"))
    def file_size(self, form: Form) -> str:
        return filesizeformat(form.size)
