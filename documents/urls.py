from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("", views.document_list, name="list"),
    path("<uuid:public_id>/", views.document_download, name="download"),
]

# Mounted at /formulare/ as the namespace "forms" (config/urls.py).
forms_urlpatterns = [
    path("", views.form_list, name="list"),
    path("<slug:slug>.pdf", views.form_download, name="download"),
]
