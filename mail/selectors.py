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
    """The e-mails about one request that did not go out (failed, or in
    doubt whether the server got them), newest first, without bodies."""
    return list(
        OutboundEmail.objects.filter(
            thread=reference,
            status__in=[OutboundEmail.Status.FAILED, OutboundEmail.Status.IN_DOUBT],
        )
        .defer("body")
        .order_by("-created_at", "-pk")[:20]
    )
