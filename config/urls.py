from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from accounts.views import admin_login_redirect
from api.main import api
from documents.urls import forms_urlpatterns

admin.site.site_header = _("genoportal administration")
admin.site.site_title = _("genoportal")
admin.site.index_title = _("Master data and settings")

urlpatterns = [
    path("", include("portal.urls")),
    path("", include("accounts.urls")),
    path("anliegen/", include("tickets.urls")),
    path("termine/", include("appointments.urls")),
    path("raeume/", include("rooms.urls")),
    path("aushaenge/", include("notices.urls")),
    path("meine-daten/", include("privacy.urls")),
    # Certificates: the member's (bescheinigungen/) and the public check (pruefen/).
    path("", include("certificates.urls")),
    path("dokumente/", include("documents.urls")),
    # Blank forms to download: public, nothing personal.
    path("formulare/", include((forms_urlpatterns, "forms"))),
    path("bearbeitung/", include("backoffice.urls")),
    # The JSON face (Django Ninja): the member's appointments, OpenAPI at openapi.json.
    path("api/v1/", api.urls),
    # Staff log in through the same rate-limited form as members; the admin's
    # own login form would bypass the limits.
    path("verwaltung/login/", admin_login_redirect),
    path("verwaltung/", admin.site.urls),
]
