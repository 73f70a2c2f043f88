from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("sprache/", views.language_set, name="language_set"),
    path("healthz", views.healthz, name="healthz"),
    path("logo", views.logo, name="logo"),
]
