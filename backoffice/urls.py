from django.urls import path

from backoffice.views import (
    appointment_booking,
    appointments,
    documents,
    inbox,
    incidents,
    insights,
    mail,
    notices,
    phone,
    room_booking,
    rooms,
    ticket,
)

app_name = "backoffice"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("anruf/", phone.phone_start, name="phone_start"),
    path("anruf/mitglieder/", phone.phone_members, name="phone_members"),
    path(
        "anruf/<str:member_number>/<slug:slug>/<str:channel>/",
        phone.phone_form,
        name="phone_form",
    ),
    # Appointments (issue 13): an advisor's week, one appointment, blocked
    # time, the calendar subscription, booking for a caller.
    # The team leads' dashboard (issue 14).
    path("ueberblick/", insights.dashboard, name="insights"),
    path("ueberblick/<slug:name>.csv", insights.export, name="insights_export"),
    # Guest apartments and common rooms (issue 13, point 8).
    path("raeume/", rooms.room_bookings, name="room_bookings"),
    path("raeume/buchen/<str:member_number>/", room_booking.book_rooms, name="room_book"),
    path(
        "raeume/buchen/<str:member_number>/<slug:slug>/",
        room_booking.book_room,
        name="room_book_room",
    ),
    path(
        "raeume/buchen/<str:member_number>/<slug:slug>/bestaetigen/",
        room_booking.book_confirm,
        name="room_book_confirm",
    ),
    path("raeume/gebucht/<uuid:public_id>/", room_booking.booked, name="room_booked"),
    path("raeume/<uuid:public_id>/", rooms.room_booking, name="room_booking"),
    path(
        "raeume/<uuid:public_id>/ablehnen/", rooms.room_booking_decline, name="room_booking_decline"
    ),
    path(
        "raeume/<uuid:public_id>/stornieren/", rooms.room_booking_cancel, name="room_booking_cancel"
    ),
    # Notices to residents (issue 14, point 5).
    path("aushaenge/", notices.notice_list, name="notices"),
    path("aushaenge/neu/", notices.notice_new, name="notice_new"),
    path("aushaenge/<uuid:public_id>/", notices.notice_detail, name="notice"),
    path("aushaenge/<uuid:public_id>/bearbeiten/", notices.notice_edit, name="notice_edit"),
    path(
        "aushaenge/<uuid:public_id>/veroeffentlichen/",
        notices.notice_publish,
        name="notice_publish",
    ),
    path(
        "aushaenge/<uuid:public_id>/zurueckziehen/",
        notices.notice_withdraw,
        name="notice_withdraw",
    ),
    # Documents for members (issue 15, point 1).
    path("dokumente/", documents.document_overview, name="documents"),
    path("dokumente/neu/", documents.document_new, name="document_new"),
    path("dokumente/stapel/neu/", documents.batch_new, name="document_batch_new"),
    path("dokumente/stapel/<uuid:public_id>/", documents.batch_detail, name="document_batch"),
    path(
        "dokumente/stapel/<uuid:public_id>/dateien/<int:position>/",
        documents.batch_file,
        name="document_batch_file",
    ),
    path(
        "dokumente/stapel/<uuid:public_id>/veroeffentlichen/",
        documents.batch_publish,
        name="document_batch_publish",
    ),
    path(
        "dokumente/stapel/<uuid:public_id>/verwerfen/",
        documents.batch_discard,
        name="document_batch_discard",
    ),
    path(
        "dokumente/stapel/<uuid:public_id>/zurueckziehen/",
        documents.batch_withdraw,
        name="document_batch_withdraw",
    ),
    path("dokumente/<uuid:public_id>/", documents.document_detail, name="document"),
    path("dokumente/<uuid:public_id>/datei/", documents.document_file, name="document_file"),
    path(
        "dokumente/<uuid:public_id>/zurueckziehen/",
        documents.document_withdraw,
        name="document_withdraw",
    ),
    # Incidents (Störungen, issue 14, points 3 and 4).
    path("stoerungen/", incidents.incident_list, name="incidents"),
    path("stoerungen/neu/", incidents.incident_new, name="incident_new"),
    path("stoerungen/<uuid:public_id>/", incidents.incident_detail, name="incident"),
    path(
        "stoerungen/<uuid:public_id>/annehmen/", incidents.incident_accept, name="incident_accept"
    ),
    path(
        "stoerungen/<uuid:public_id>/verwerfen/",
        incidents.incident_dismiss,
        name="incident_dismiss",
    ),
    path(
        "stoerungen/<uuid:public_id>/beheben/",
        incidents.incident_resolve,
        name="incident_resolve",
    ),
    path("stoerungen/<uuid:public_id>/aushang/", incidents.incident_notice, name="incident_notice"),
    path("termine/", appointments.appointment_week, name="appointments"),
    path("termine/sperren/", appointments.appointment_block, name="appointment_block"),
    path("termine/kalender/", appointments.appointment_feed, name="appointment_feed"),
    path(
        "termine/buchen/<str:member_number>/",
        appointment_booking.book_topics,
        name="appointment_book",
    ),
    path(
        "termine/buchen/<str:member_number>/<slug:slug>/",
        appointment_booking.book_slots,
        name="appointment_book_slots",
    ),
    path(
        "termine/buchen/<str:member_number>/<slug:slug>/bestaetigen/",
        appointment_booking.book_confirm,
        name="appointment_book_confirm",
    ),
    path(
        "termine/gebucht/<uuid:public_id>/",
        appointment_booking.booked,
        name="appointment_booked",
    ),
    path("termine/<uuid:public_id>/", appointments.appointment_detail, name="appointment"),
    path(
        "termine/<uuid:public_id>/absagen/",
        appointments.appointment_cancel,
        name="appointment_cancel",
    ),
    path("e-mail/", mail.mail_list, name="mail"),
    path("e-mail/<int:email_id>/", mail.mail_detail, name="mail_detail"),
    path("e-mail/<int:email_id>/original/", mail.mail_original, name="mail_original"),
    path("anliegen/<str:reference>/", ticket.ticket_detail, name="ticket"),
    path("anliegen/<str:reference>/art/", ticket.ticket_retype, name="ticket_retype"),
    path("anliegen/<str:reference>/iban/", ticket.ticket_iban, name="ticket_iban"),
    path(
        "anliegen/<str:reference>/dateien/<int:attachment_id>/",
        ticket.attachment_download,
        name="attachment",
    ),
]
