import datetime

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from mail.models import OutboundEmail
from mail.tasks import QUEUED_GRACE, email_deliver

Status = OutboundEmail.Status


def stopped_attempts_settle(*, now: datetime.datetime) -> tuple[int, int]:
    """Attempts whose lease ran out (the worker was killed or hung): before
    the hand-over nothing can have arrived, so the row may be sent again;
    after it, the row is in doubt and waits for staff. Returns both counts."""
    stale = now - datetime.timedelta(seconds=settings.MAIL_LEASE_SECONDS)
    stopped = OutboundEmail.objects.filter(status=Status.SENDING, claimed_at__lt=stale)
    retry = stopped.filter(handed_over_at__isnull=True).update(
        status=Status.FAILED,
        claim=None,
        # Our worker stopped, not the mail server: no backoff, the lease
        # already made the row wait.
        next_attempt_at=now,
        last_error="The delivery stopped before the message was handed to the mail server.",
        updated_at=now,
    )
    doubt = stopped.filter(handed_over_at__isnull=False).update(
        status=Status.IN_DOUBT,
        claim=None,
        last_error=(
            "The delivery stopped after the message was handed to the mail server: "
            "it may have arrived. Not sent again automatically."
        ),
        updated_at=now,
    )
    # The task rows of killed workers would say "running" for ever.
    DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING,
        task_path=email_deliver.module_path,
        started_at__lt=stale,
    ).update(
        status=TaskResultStatus.FAILED,
        finished_at=now,
        exception_class_path="mail.management.commands.mail_retry.WorkerStopped",
        traceback="The worker stopped while running this task (recovered by mail_retry).",
    )
    return retry, doubt


def emails_due(*, now: datetime.datetime, max_attempts: int):
    """Unsent rows whose next attempt is due: failed ones once their backoff
    has passed (mail.backoff), queued ones whose own task should long have
    run. Each branch is an equality on status and a range on one column,
    answered from the (status, next_attempt_at) and (status, created_at)
    indexes. Rows with `max_attempts` attempts are given up: staff decide."""
    # A queued row younger than five minutes most likely still has its task
    # waiting in the queue; leave it alone rather than enqueue it twice.
    settled = now - QUEUED_GRACE
    return OutboundEmail.objects.filter(
        Q(status=Status.FAILED, next_attempt_at__lte=now)
        # Failed before the backoff existed, or put back by hand.
        | Q(status=Status.FAILED, next_attempt_at__isnull=True)
        # Sent again by staff (mail.services.email_send_again).
        | Q(status=Status.QUEUED, next_attempt_at__lte=now)
        | Q(status=Status.QUEUED, next_attempt_at__isnull=True, created_at__lt=settled),
        attempts__lt=max_attempts,
    )


class Command(BaseCommand):
    help = (
        "Re-enqueue outbox e-mails that are not sent yet (failed and past their backoff, "
        "lost before their task ran, or stopped before reaching the mail server); mark "
        "those stopped after it as in doubt. Idempotent; run from a timer every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=None,
            help="give up after this many attempts (default: settings.MAIL_MAX_ATTEMPTS)",
        )

    def handle(self, *args, max_attempts, **options):
        now = timezone.now()
        if max_attempts is None:
            max_attempts = settings.MAIL_MAX_ATTEMPTS
        retry, doubt = stopped_attempts_settle(now=now)
        count = 0
        for email_id in emails_due(now=now, max_attempts=max_attempts).values_list("pk", flat=True):
            email_deliver.enqueue(email_id)
            count += 1
        self.stdout.write(
            f"{count} e-mail(s) re-enqueued; {retry} stopped before the mail server, "
            f"{doubt} stopped after it (in doubt)"
        )
