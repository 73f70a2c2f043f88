from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("bescheinigungen/neu/<slug:slug>/", views.certificate_request, name="request"),
    path("bescheinigungen/ausstellen/<slug:slug>/", views.certificate_issue, name="issue"),
    path("bescheinigungen/<int:certificate_id>/", views.certificate_detail, name="detail"),
    path(
        "bescheinigungen/<int:certificate_id>/pdf/",
        views.certificate_download,
        name="download",
    ),
    # Public: whoever holds a certificate checks it here (its QR code leads
    # to the second address).
    path("pruefen/", views.verify, name="verify"),
    path("pruefen/<str:code>/", views.verify_code, name="verify_code"),
]
