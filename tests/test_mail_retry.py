"""Failed e-mails are tried again with growing pauses until the portal gives
up; staff see what it gave up on (and what is in doubt) and send it again
(issue 12, "Outbound")."""

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from mail.models import OutboundEmail
from mail.selectors import emails_failing
from mail.services import email_send_again
from mail.tasks import email_deliver
from tests.mailserver import free_port

pytestmark = pytest.mark.django_db(transaction=True)
Status = OutboundEmail.Status
MINUTE = datetime.timedelta(minutes=1)


def _email(**fields) -> OutboundEmail:
    return OutboundEmail.objects.create(
        to="alice@example.org", subject="Ihr Anliegen", body="Hallo", **fields
    )


@pytest.fixture
def database_queue(settings):
    """Tasks wait in the database queue, as in production, instead of
    running at once: a test sees how many deliveries were enqueued."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def no_server(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens here


# mail_retry ----------------------------------------------------------------


def test_a_failed_attempt_waits_out_its_backoff(cast, no_server, outbox):
    email = _email()
    before = timezone.now()
    assert email_deliver.call(email.pk) == "failed"
    email.refresh_from_db()
    assert email.attempts == 1
    assert before + MINUTE <= email.next_attempt_at <= timezone.now() + MINUTE

    call_command("mail_retry")  # the backoff has not passed: no attempt
    email.refresh_from_db()
    assert email.attempts == 1
    # A second task for it in the queue waits too.
    assert email_deliver.call(email.pk) == "not claimable"

    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - MINUTE)
    call_command("mail_retry")
    email.refresh_from_db()
    assert email.attempts == 2 and email.status == Status.FAILED
    assert email.next_attempt_at - timezone.now() > MINUTE  # now two minutes


def test_it_gives_up_after_the_maximum_of_attempts(cast, no_server, settings):
    settings.MAIL_MAX_ATTEMPTS = 3
    email = _email(status=Status.FAILED, attempts=3)
    also_due = _email(status=Status.FAILED, attempts=2)
    call_command("mail_retry")
    email.refresh_from_db()
    also_due.refresh_from_db()
    assert email.attempts == 3 and email.is_given_up()
    assert also_due.attempts == 3  # tried once more, now given up too
    assert list(emails_failing()) == [also_due, email]
    # The timer's flag overrides the setting (e.g. after a long outage).
    call_command("mail_retry", "--max-attempts", "4")
    email.refresh_from_db()
    assert email.attempts == 4


def test_a_queued_row_is_left_to_its_own_task_for_five_minutes(cast, database_queue):
    email = _email()
    call_command("mail_retry")
    assert DBTaskResult.objects.count() == 0
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=email.created_at - 6 * MINUTE)
    call_command("mail_retry")
    assert DBTaskResult.objects.count() == 1


# Sending again ---------------------------------------------------------------


def test_staff_send_an_email_in_doubt_again(cast, outbox):
    email = _email(status=Status.IN_DOUBT, attempts=1, handed_over_at=timezone.now())
    assert email_send_again(email=email, actor=cast.ada) is True
    email.refresh_from_db()
    assert email.status == Status.SENT
    assert email.sent_again_by == cast.ada and email.sent_again_at is not None
    assert email.attempts == 1  # a fresh round, and this was its first attempt
    assert [m.extra_headers["Message-ID"] for m in outbox] == [email.message_id()]


def test_staff_send_a_given_up_email_again_with_a_fresh_round(cast, settings, database_queue):
    settings.MAIL_MAX_ATTEMPTS = 3
    email = _email(
        status=Status.FAILED,
        attempts=3,
        next_attempt_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert email_send_again(email=email, actor=cast.tom) is True
    assert email.status == Status.QUEUED and email.attempts == 0  # updated in memory
    email.refresh_from_db()
    assert email.status == Status.QUEUED and email.attempts == 0
    assert email.sent_again_by == cast.tom
    assert not emails_failing().exists()
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [email.pk]
    # The task is claimable at once (no backoff), mail_retry leaves it to it.
    call_command("mail_retry")
    assert DBTaskResult.objects.count() == 1


def test_two_clicks_enqueue_one_delivery(cast, database_queue):
    email = _email(status=Status.FAILED, attempts=10)
    assert email_send_again(email=email, actor=cast.ada) is True
    assert email_send_again(email=email, actor=cast.tom) is False
    stale_copy = OutboundEmail.objects.get(pk=email.pk)
    assert email_send_again(email=stale_copy, actor=cast.tom) is False
    assert DBTaskResult.objects.count() == 1
    email.refresh_from_db()
    assert email.sent_again_by == cast.ada


@pytest.mark.parametrize("status", [Status.SENT, Status.SENDING, Status.QUEUED])
def test_it_refuses_what_is_sent_or_on_its_way(cast, database_queue, status):
    email = _email(status=status, attempts=1)
    assert email_send_again(email=email, actor=cast.ada) is False
    email.refresh_from_db()
    assert email.status == status and email.sent_again_by is None
    assert DBTaskResult.objects.count() == 0


def test_a_send_again_that_is_rolled_back_enqueues_nothing(cast, database_queue):
    email = _email(status=Status.IN_DOUBT)
    with pytest.raises(RuntimeError), transaction.atomic():
        email_send_again(email=email, actor=cast.ada)
        raise RuntimeError("the page failed")
    email.refresh_from_db()
    assert email.status == Status.IN_DOUBT
    assert DBTaskResult.objects.count() == 0


# What staff are shown --------------------------------------------------------


def test_staff_see_given_up_and_in_doubt_emails_per_request(cast, settings):
    settings.MAIL_MAX_ATTEMPTS = 10
    doubt = _email(status=Status.IN_DOUBT, thread="A-2026-000042")
    given_up = _email(status=Status.FAILED, attempts=10, thread="A-2026-000042")
    retried = _email(status=Status.FAILED, attempts=3, thread="A-2026-000042")
    _email(status=Status.SENT, attempts=1, thread="A-2026-000042")
    other = _email(status=Status.IN_DOUBT, thread="A-2026-000007")
    unthreaded = _email(status=Status.FAILED, attempts=12)

    assert list(emails_failing()) == [unthreaded, other, given_up, doubt]
    assert list(emails_failing(thread="A-2026-000042")) == [given_up, doubt]
    assert list(emails_failing(thread="")) == [unthreaded]
    assert list(emails_failing(max_attempts=3, thread="A-2026-000042")) == [
        retried,
        given_up,
        doubt,
    ]
    assert not doubt.is_given_up() and given_up.is_given_up()
