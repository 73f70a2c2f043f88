from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.room_list, name="list"),
    path("buchung/<uuid:public_id>/", views.booking_detail, name="booking"),
    path("buchung/<uuid:public_id>/stornieren/", views.booking_cancel, name="cancel"),
    path("<slug:slug>/", views.room_detail, name="room"),
    path("<slug:slug>/bestaetigen/", views.room_confirm, name="confirm"),
]
