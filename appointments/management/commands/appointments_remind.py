"""Send appointment reminders that are due and not sent yet. Each booking's
reminder is a task planned for its moment (appointments.services); this
command, run by a timer every minute like routing_escalate, is the
backstop for a task that was lost. Idempotent: a reminder goes once."""

from django.core.management.base import BaseCommand

from appointments.services import reminders_due


class Command(BaseCommand):
    help = "Send the appointment reminders that are due."

    def handle(self, *args, **options):
        sent = reminders_due()
        if options["verbosity"] > 0:
            self.stdout.write(f"{sent} reminder(s) sent")
