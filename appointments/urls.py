from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("", views.appointment_list, name="list"),
    path("neu/", views.appointment_new, name="new"),
    path("neu/<slug:slug>/", views.appointment_slots, name="slots"),
    path("neu/<slug:slug>/bestaetigen/", views.appointment_confirm, name="confirm"),
    path("kalender/<str:token>.ics", views.advisor_feed, name="feed"),
    path("link/<str:token>/", views.appointment_link, name="link"),
    path("link/<str:token>/verschieben/", views.appointment_link_move, name="link_move"),
    path("<uuid:public_id>/", views.appointment_detail, name="detail"),
    path("<uuid:public_id>/absagen/", views.appointment_cancel, name="cancel"),
    path("<uuid:public_id>/verschieben/", views.appointment_move, name="move"),
    path("<uuid:public_id>/termin.ics", views.appointment_ics, name="ics"),
]
