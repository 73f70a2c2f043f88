from django.apps import AppConfig


class MailroomConfig(AppConfig):
    """The cooperative's mailroom (issue 12): e-mail that arrives becomes a
    request, joins one, or is set aside (bounces, automatic replies). A face
    like the portal: it turns a message into calls of tickets' services.
    The messages themselves are kept by `mail` (InboundEmail); no models."""

    name = "mailroom"
