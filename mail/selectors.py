from django.db.models import QuerySet

from mail.models import OutboundEmail


def emails_failing(
    *, thread: str | None = None, max_attempts: int | None = None
) -> QuerySet[OutboundEmail]:
    """The e-mails staff must look at, newest first: given up after
    `max_attempts` (settings.MAIL_MAX_ATTEMPTS) failed attempts, or in doubt
    (may have arrived; never sent again by itself). `thread`: only those
    about one request (its reference), for the request's page. Each can be
    sent again with mail.services.email_send_again."""
    emails = OutboundEmail.objects.failing(max_attempts=max_attempts).select_related(
        "sent_again_by"
    )
    if thread is not None:
        emails = emails.filter(thread=thread)
    return emails.order_by("-created_at")
