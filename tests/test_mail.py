"""The outbox delivers through a real SMTP server on loopback."""

from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
from aiosmtpd.handlers import Message

from mail.models import InboundEmail, OutboundEmail
from mail.services import email_queue
from mail.tasks import email_deliver
from tests.mailserver import free_port, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)


class Collector(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    with smtp_server(Collector(), settings) as handler:
        yield handler


def test_it_delivers_a_queued_email_over_smtp_once(cast, smtp):
    email = email_queue(
        to="alice@example.org",
        template="accounts/email/email_changed",
        context={"user": cast.alice, "new_email": "alice@example.org"},
        language="de",
    )
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.attempts == 1
    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    assert received["To"] == "alice@example.org"
    assert str(make_header(decode_header(received["Subject"]))) == email.subject
    # Running the task again (a retry after a crash) sends nothing twice.
    email_deliver.call(email.pk)
    assert len(smtp.messages) == 1


def test_a_failed_delivery_stays_in_the_outbox_for_retry(cast, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens here
    email = email_queue(
        to="alice@example.org",
        template="accounts/email/email_changed",
        context={"user": cast.alice, "new_email": "x@example.org"},
        language="de",
    )
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.FAILED
    assert email.last_error


def test_mail_retry_resends_failed_mail(cast, smtp):
    from django.core.management import call_command

    email = OutboundEmail.objects.create(
        to="bob@example.org",
        subject="Test",
        body="Hallo",
        status=OutboundEmail.Status.FAILED,
        attempts=1,
    )
    call_command("mail_retry")
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert [m["To"] for m in smtp.messages] == ["bob@example.org"]
    call_command("mail_retry")
    assert len(smtp.messages) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(cast, smtp):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        email_queue(
            to="alice@example.org",
            template="accounts/email/email_changed",
            context={"user": cast.alice, "new_email": "x@example.org"},
            language="de",
        )
        raise RuntimeError("the change failed")
    assert OutboundEmail.objects.count() == 0
    assert smtp.messages == []


def test_what_goes_out_threads_and_says_it_is_automatic(cast, smtp, settings):
    """Text and HTML part, a stable Message-ID, Reply-To the mailbox that is
    read, Auto-Submitted on notifications, and the request's earlier
    messages (ours, and the member's e-mail) in In-Reply-To/References —
    as received by a real SMTP server (issue 12)."""
    settings.MAIL_REPLY_TO = "service@genossenschaft.example"
    context = {"user": cast.alice, "new_email": "alice@example.org"}
    first = email_queue(
        to="alice@example.org", template="accounts/email/email_changed", context=context,
        language="de", thread="A-2026-000042",
    )  # fmt: skip
    InboundEmail.objects.create(
        mailbox="service", message_id="her-mail@example.org", content_hash="h" * 64, raw=b"x",
        size=1, sender="alice@example.org", status=InboundEmail.Status.REPLY,
        ticket_reference="A-2026-000042",
    )  # fmt: skip
    second = email_queue(
        to="alice@example.org", template="accounts/email/email_changed", context=context,
        language="de", thread="A-2026-000042", written=True,
    )  # fmt: skip
    first.refresh_from_db()
    one, two = (message_from_bytes(m.as_bytes(), policy=policy.default) for m in smtp.messages)
    assert one["Message-ID"] == first.message_id() and one["Auto-Submitted"] == "auto-generated"
    assert one["Reply-To"] == "service@genossenschaft.example"
    assert one["In-Reply-To"] is None  # the first of the thread
    assert two["Auto-Submitted"] is None  # written by a person
    assert two["In-Reply-To"] == "<her-mail@example.org>"
    assert two["References"] == f"{first.message_id()} <her-mail@example.org>"
    kinds = [part.get_content_type() for part in two.walk()]
    assert kinds == ["multipart/alternative", "text/plain", "text/html"]
    html = two.get_body(("html",)).get_content()
    assert "<p>" in html and "<script" not in html
    assert two.get_body(("plain",)).get_content().strip() == second.body.strip()
