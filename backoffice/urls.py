from django.urls import path

from backoffice.views import inbox, mail, phone, ticket

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
