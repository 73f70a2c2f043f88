from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("mein-bereich/", views.member_home, name="member_home"),
    path("sprache/", views.language_set, name="language_set"),
    path("healthz", views.healthz, name="healthz"),
    path("logo", views.logo, name="logo"),
    path("impressum/", views.imprint, name="imprint"),
    path("datenschutz/", views.privacy, name="privacy"),
    path("mein-bereich/mitgliedschaft/", views.membership, name="membership"),
    path("barrierefreiheit/", views.accessibility, name="accessibility"),
    path("barrierefreiheit/melden/", views.accessibility_report, name="accessibility_report"),
    path(
        "barrierefreiheit/melden/gesendet/",
        views.accessibility_report_sent,
        name="accessibility_report_sent",
    ),
]
