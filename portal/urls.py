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
]
