from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("neu/", views.request_new, name="new"),
    path("neu/<slug:slug>/", views.request_form, name="form"),
    path("neu/<slug:slug>/pruefen/", views.request_review, name="review"),
    path(
        "neu/<slug:slug>/dateien/<int:attachment_id>/",
        views.draft_attachment_download,
        name="draft_attachment",
    ),
    path(
        "neu/<slug:slug>/dateien/<int:attachment_id>/entfernen/",
        views.draft_attachment_remove,
        name="draft_attachment_remove",
    ),
    path("<str:reference>/", views.request_detail, name="detail"),
    path("<str:reference>/wieder-oeffnen/", views.request_reopen, name="reopen"),
    path("<str:reference>/bewerten/", views.request_rate, name="rate"),
    path("<str:reference>/teilen/", views.request_share, name="share"),
    path("<str:reference>/zurueckziehen/", views.request_withdraw, name="withdraw"),
    path(
        "<str:reference>/dateien/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
]
