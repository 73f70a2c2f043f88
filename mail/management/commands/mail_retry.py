import datetime

from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from mail.models import OutboundEmail
from mail.tasks import email_deliver


class Command(BaseCommand):
    help = "Re-enqueue outbox e-mails that are not sent yet (failed, or lost before their task ran). Idempotent; run from a timer."

    def add_arguments(self, parser):
        parser.add_argument("--max-attempts", type=int, default=10)

    def handle(self, *args, max_attempts, **options):
        # A queued row younger than five minutes most likely still has its task
        # waiting in the queue; leave it alone rather than send it twice.
        settled = timezone.now() - datetime.timedelta(minutes=5)
        pending = OutboundEmail.objects.filter(
            Q(status=OutboundEmail.Status.FAILED)
            | Q(status=OutboundEmail.Status.QUEUED, created_at__lt=settled),
            attempts__lt=max_attempts,
        )
        count = 0
        for email_id in pending.values_list("pk", flat=True):
            email_deliver.enqueue(email_id)
            count += 1
        self.stdout.write(f"{count} e-mail(s) re-enqueued")
