"""What staff read about mail: the messages that came in and what became
of them, the e-mails a request sent, the addresses mail does not reach."""

from django.db.models import QuerySet

from mail.models import BouncingAddress, InboundEmail, OutboundEmail

# Messages that opened or joined no request: staff look at them here.
UNFILED = (
    InboundEmail.Status.QUARANTINE,
    InboundEmail.Status.IGNORED,
    InboundEmail.Status.BOUNCE,
    InboundEmail.Status.AUTO_REPLY,
)


def bouncing(addresses) -> list[BouncingAddress]:
    """The given addresses that mail came back from, in one query."""
    wanted = {a.strip().lower() for a in addresses if a}
    if not wanted:
        return []
    return list(BouncingAddress.objects.filter(address__in=wanted).order_by("address"))


def inbound_unfiled(status: str, *, before: int | None = None) -> QuerySet[InboundEmail]:
    """Messages of one outcome that made no request, newest first (by id:
    the order they were read), older than the id `before` for the next
    page; without the raw bytes (a list never needs them)."""
    found = InboundEmail.objects.filter(status=status)
    if before is not None:
        found = found.filter(pk__lt=before)
    return found.defer("raw").order_by("-pk")


def outbound_failing(reference: str) -> list[OutboundEmail]:
    """The e-mails about one request staff must look at (emails_failing),
    without bodies, at most 20."""
    return list(emails_failing(thread=reference).defer("body")[:20])


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
