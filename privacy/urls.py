from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.export_page, name="export"),
    path("<uuid:public_id>/datei/", views.export_download, name="download"),
]
