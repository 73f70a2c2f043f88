"""A mailbox run takes its messages in batches (issue 12's speed): one
transaction and one reading of the standing facts per batch. What must
still hold: an error in one message undoes that message only and the
ones before it are committed and marked; a batch's e-mails go out by one
task, and only those whose message was committed; two runs at once (or a
run and the web) wait for each other instead of deadlocking; a batch
costs fewer statements per message than one message alone."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from demo.routing import routing_demo_ensure
from mail.models import InboundEmail, OutboundEmail
from mail.services import email_delivery_batch, email_queue
from mailroom.services import BATCH_MESSAGES, mail_ingest, mail_ingest_batches
from tests.factories import jpeg, mail
from tickets import services
from tickets.models import Channel, Ticket

Outcome = InboundEmail.Status
SENDERS = ["alice@example.org", "bob@example.org", "dave@example.org"]


def maildir(tmp_path, *messages: bytes):
    for sub in ("new", "cur", "tmp"):
        (tmp_path / sub).mkdir(exist_ok=True)
    for number, raw in enumerate(messages):
        (tmp_path / "new" / f"{1700000000 + number}.M{number}P1.host").write_bytes(raw)
    return tmp_path


def seen(folder) -> list[str]:
    return sorted(p.name.split(".")[0] for p in (folder / "cur").iterdir() if p.name.endswith("S"))


@pytest.mark.django_db
def test_an_error_half_way_commits_and_marks_only_the_messages_before_it(
    cast, tmp_path, monkeypatch, capsys
):
    folder = maildir(
        tmp_path,
        mail(message_id="<b1@x>"),
        mail(message_id="<b2@x>", sender="bob@example.org"),
        mail(message_id="<b3@x>", attachments=[("foto.jpg", jpeg(), "image/jpeg")]),
        mail(message_id="<b4@x>", sender="dave@example.org"),
    )

    def disk_full(**kwargs):
        if kwargs["files"]:
            raise OSError("disk full")

    real = services._attachments_store
    monkeypatch.setattr(services, "_attachments_store", disk_full)
    with pytest.raises(OSError):
        call_command("fetch_mail", "--maildir", str(folder))
    # The two before it: committed, with their requests, and marked seen;
    # the third and the fourth untouched, nothing of the third left over.
    assert sorted(InboundEmail.objects.values_list("message_id", flat=True)) == ["b1@x", "b2@x"]
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 2
    assert seen(folder) == ["1700000000", "1700000001"]
    assert len(list((folder / "new").iterdir())) == 2
    capsys.readouterr()

    monkeypatch.setattr(services, "_attachments_store", real)
    call_command("fetch_mail", "--maildir", str(folder))
    assert "2 message(s) processed" in capsys.readouterr().out
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 4
    ticket = Ticket.objects.get(
        reference=InboundEmail.objects.get(message_id="b3@x").ticket_reference
    )
    assert ticket.attachments.count() == 1
    assert len(seen(folder)) == 4


@pytest.mark.django_db
def test_more_messages_than_a_batch_are_all_taken_in_once(cast, tmp_path, capsys, settings):
    settings.MAIL_SENDER_LIMIT_PER_HOUR = 1000
    count = BATCH_MESSAGES * 2 + 3
    folder = maildir(
        tmp_path,
        *(mail(message_id=f"<n{n}@x>", sender=SENDERS[n % 3]) for n in range(count)),
    )
    call_command("fetch_mail", "--maildir", str(folder))
    assert f"{count} message(s) processed" in capsys.readouterr().out
    assert InboundEmail.objects.filter(status=Outcome.TICKET).count() == count
    assert len(seen(folder)) == count
    references = list(Ticket.objects.values_list("reference", flat=True))
    assert len(set(references)) == count  # the counter counted on across the batches


@pytest.mark.django_db
def test_a_batch_costs_fewer_statements_per_message_than_single_messages(cast, settings):
    settings.MAIL_SENDER_LIMIT_PER_HOUR = 1000
    # The demo's routing rules, SLA policies and absences: routing reads
    # them (and the staff's state, the working calendar) for each request.
    routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    mail_ingest(raw=mail(message_id="<warm@x>"), mailbox="s")  # the intake account etc.
    with CaptureQueriesContext(connection) as single:
        mail_ingest(raw=mail(message_id="<one@x>", sender="bob@example.org"), mailbox="s")
    messages = [mail(message_id=f"<s{n}@x>", sender=SENDERS[n % 3]) for n in range(10)]
    with CaptureQueriesContext(connection) as batch:
        for _ in mail_ingest_batches(
            messages, process=lambda raw: mail_ingest(raw=raw, mailbox="s")
        ):
            pass
    per_message = len(batch.captured_queries) / len(messages)
    # The standing facts (rules, staff, calendar, forms, the classifier's
    # model) are read once per batch: without that, a batch message cost
    # what a single one does.
    assert per_message < len(single.captured_queries) * 0.7, (
        per_message,
        len(single.captured_queries),
    )
    statements = [q["sql"] for q in batch.captured_queries]
    assert sum('FROM "tickets_requestfield"' in q for q in statements) == 1
    assert sum('FROM "cooperative_cooperative"' in q for q in statements) <= 1


@pytest.mark.django_db(transaction=True)
def test_a_batchs_emails_go_out_by_one_task_and_only_the_committed_ones(cast, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    tasks_before = DBTaskResult.objects.count()
    with email_delivery_batch(), transaction.atomic():
        kept = email_queue(
            to="alice@example.org",
            template="accounts/email/email_changed",
            context={"user": cast.alice, "new_email": "alice@example.org"},
            language="de",
        )
        try:
            with transaction.atomic():
                email_queue(
                    to="bob@example.org",
                    template="accounts/email/email_changed",
                    context={"user": cast.bob, "new_email": "bob@example.org"},
                    language="de",
                )
                raise RuntimeError("this message is undone")
        except RuntimeError:
            pass
    assert list(OutboundEmail.objects.values_list("pk", flat=True)) == [kept.pk]
    task = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == tasks_before + 1
    assert task.task_path == "mail.tasks.email_deliver_many"
    assert task.args_kwargs["args"] == [[kept.pk]]

    # A run of the mail intake: its confirmations in one task per batch.
    settings.MAIL_SENDER_LIMIT_PER_HOUR = 1000
    messages = [mail(message_id=f"<t{n}@x>", sender=SENDERS[n % 3]) for n in range(5)]
    for _ in mail_ingest_batches(messages, process=lambda raw: mail_ingest(raw=raw, mailbox="s")):
        pass
    last = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == tasks_before + 2
    queued = set(OutboundEmail.objects.exclude(pk=kept.pk).values_list("pk", flat=True))
    assert len(queued) >= 5 and set(last.args_kwargs["args"][0]) == queued


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_wait_for_each_other_and_never_deadlock(cast, settings):
    """Replies lock their request's row, new requests the year's counter:
    two batches mixing both took the two locks in opposite orders and
    PostgreSQL aborted one as a deadlock. (On SQLite writers queue anyway.)"""
    settings.MAIL_SENDER_LIMIT_PER_HOUR = 1000
    opened = [
        mail_ingest(raw=mail(message_id=f"<first{n}@x>", sender=SENDERS[n]), mailbox="s")
        for n in range(3)
    ]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        try:
            messages = []
            for n in range(3 * BATCH_MESSAGES // 2):
                sender = SENDERS[n % 3]
                # One run starts with a reply (a request's row first), the
                # other with a new request (the counter first).
                if (n + (name == "b")) % 2:
                    subject = f"AW: [{opened[n % 3].ticket_reference}] Ihr Anliegen"
                else:
                    subject = "Neues Anliegen"
                messages.append(mail(message_id=f"<{name}{n}@x>", sender=sender, subject=subject))
            start.wait()
            for _ in mail_ingest_batches(
                messages, process=lambda raw: mail_ingest(raw=raw, mailbox=name)
            ):
                pass
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    per_run = 3 * BATCH_MESSAGES // 2
    assert InboundEmail.objects.filter(mailbox__in=["a", "b"]).count() == 2 * per_run
    replies = InboundEmail.objects.filter(mailbox__in=["a", "b"], status=Outcome.REPLY).count()
    assert replies == per_run // 2 + (per_run + 1) // 2
