import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from mail.models import OutboundEmail

logger = logging.getLogger(__name__)


@task()
def email_deliver(email_id: int) -> str:
    """Send one outbox row. Safe to run twice: a sent row is skipped."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(pk=email_id)
        if email.status == OutboundEmail.Status.SENT:
            return "already sent"
        email.attempts += 1
        try:
            EmailMessage(
                subject=email.subject,
                body=email.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[email.to],
            ).send()
        except Exception as exc:
            email.status = OutboundEmail.Status.FAILED
            email.last_error = repr(exc)[:2000]
            email.save(update_fields=["status", "attempts", "last_error", "updated_at"])
            logger.warning("email delivery failed", extra={"email_id": email_id})
            return "failed"
        email.status = OutboundEmail.Status.SENT
        email.sent_at = timezone.now()
        email.last_error = ""
        email.save(update_fields=["status", "attempts", "last_error", "sent_at", "updated_at"])
    logger.info("email sent", extra={"email_id": email_id})
    return "sent"
