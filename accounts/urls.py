from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("anmelden/", views.login_view, name="login"),
    path("anmelden/status/", views.session_status, name="session_status"),
    path("anmelden/code/", views.login_code, name="login_code"),
    path("sicherheit/", views.security, name="security"),
    path("sicherheit/einrichten/", views.two_factor_setup, name="two_factor_setup"),
    path("sicherheit/ausschalten/", views.two_factor_off, name="two_factor_off"),
    path("sicherheit/wiederherstellungscodes/", views.recovery_codes, name="recovery_codes"),
    path("abmelden/", views.logout_view, name="logout"),
    path("aktivieren/", views.activation_start, name="activation_start"),
    path("aktivieren/zugang/", views.activation_details, name="activation_details"),
    path("aktivieren/postfach/", views.activation_sent, name="activation_sent"),
    path(
        "aktivieren/bestaetigen/<str:token>/", views.activation_confirm, name="activation_confirm"
    ),
    path("passwort-vergessen/", views.password_reset, name="password_reset"),
    path("passwort-vergessen/gesendet/", views.password_reset_done, name="password_reset_done"),
    path(
        "passwort-neu/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("passwort-neu/fertig/", views.password_reset_complete, name="password_reset_complete"),
    path("passwort-aendern/", views.password_change, name="password_change"),
    path("passwort-aendern/fertig/", views.password_change_done, name="password_change_done"),
    path("mein-bereich/kontakt/", views.contact_edit, name="contact_edit"),
    path("mein-bereich/e-mail/", views.email_change, name="email_change"),
    path(
        "mein-bereich/e-mail/bestaetigen/<str:token>/",
        views.email_change_confirm,
        name="email_change_confirm",
    ),
]
