"""A worker killed in the middle of sending never makes a member get the
same e-mail twice: real SMTP on loopback, a real db_worker process, SIGKILL
while the server is slow to answer."""

import asyncio
import datetime
import io
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from mail.models import OutboundEmail
from mail.selectors import emails_failing
from mail.services import email_send_again
from mail.tasks import email_deliver
from tests.helpers import database_url, otp_verify
from tests.mailserver import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, "manage.py"]


class SlowServer:
    """Accepts mail, but stalls at one step once: before answering RCPT
    (nothing has been handed over yet) or after receiving the text (the
    server has the message; the client has not heard back)."""

    def __init__(self, stall_at: str):
        self.stall_at = stall_at
        self.stalled = threading.Event()
        self.messages: list[bytes] = []

    async def _stall(self, step: str) -> None:
        if self.stall_at == step:
            self.stall_at = ""
            self.stalled.set()
            await asyncio.sleep(60)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._stall("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        await self._stall("data")
        return "250 Message accepted for delivery"


def _worker_env(settings) -> dict[str, str]:
    """The environment of a worker process: the test database, the test's
    SMTP server and site address (which the Message-ID is made of), and
    the database queue instead of running tasks at once."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GENOPORTAL_TASKS_IMMEDIATE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DATABASE_URL=database_url(),
        EMAIL_BACKEND=settings.EMAIL_BACKEND,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(settings.EMAIL_PORT),
        GENOPORTAL_SITE_URL=settings.SITE_URL,
        GENOPORTAL_LOG_LEVEL="CRITICAL",
    )
    return env


def _worker_start(env: dict[str, str]) -> subprocess.Popen:
    """A real database worker that runs what is queued, then exits."""
    return subprocess.Popen(
        [*MANAGE, "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture
def server(request, settings):
    with smtp_server(SlowServer(request.param), settings) as handler:
        yield handler


def _worker_killed_mid_send(server, settings) -> OutboundEmail:
    """An e-mail queued for the database worker; a real worker process
    starts sending it and is killed while the server stalls."""
    email = OutboundEmail.objects.create(
        to="alice@example.org", subject="Ihr Anliegen", body="Hallo"
    )
    env = _worker_env(settings)
    enqueue = f"from mail.tasks import email_deliver; email_deliver.enqueue({email.pk})"
    subprocess.run([*MANAGE, "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)
    worker = _worker_start(env)
    try:
        assert server.stalled.wait(timeout=60), "the worker never reached the server"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert DBTaskResult.objects.get().status == TaskResultStatus.RUNNING
    # The timer runs later (here: past the lease and past the five minutes
    # in which a fresh queued row is left to its own task).
    settings.MAIL_LEASE_SECONDS = 0
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=email.created_at - datetime.timedelta(minutes=10)
    )
    return email


@pytest.mark.parametrize("server", ["rcpt"], indirect=True)
def test_it_sends_once_when_the_worker_died_before_handing_the_mail_over(cast, server, settings):
    email = _worker_killed_mid_send(server, settings)
    assert server.messages == []  # the server never got the text

    call_command("mail_retry")
    call_command("mail_retry")  # a timer runs it every minute

    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert len(server.messages) == 1
    assert DBTaskResult.objects.get().status == TaskResultStatus.FAILED  # recovered


@pytest.mark.parametrize("server", ["data"], indirect=True)
def test_it_never_sends_twice_when_the_worker_died_after_handing_it_over(cast, server, settings):
    email = _worker_killed_mid_send(server, settings)
    assert len(server.messages) == 1  # the server has it; the worker never heard back

    call_command("mail_retry")
    call_command("mail_retry")

    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.IN_DOUBT
    assert "may have arrived" in email.last_error
    assert len(server.messages) == 1
    assert DBTaskResult.objects.get().status == TaskResultStatus.FAILED


@pytest.mark.parametrize("server", [""], indirect=True)
def test_only_the_attempt_holding_the_claim_sends(cast, server):
    email = OutboundEmail.objects.create(to="bob@example.org", subject="Test", body="Hallo")
    results = []

    def attempt():
        try:
            results.append(email_deliver.call(email.pk))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["not claimable"] * 3 + ["sent"]
    assert len(server.messages) == 1


@pytest.mark.parametrize("server", [""], indirect=True)
def test_every_attempt_carries_the_same_message_id(cast, server):
    email = OutboundEmail.objects.create(
        to="bob@example.org", subject="Test", body="Hallo", status=OutboundEmail.Status.IN_DOUBT
    )
    assert email_deliver.call(email.pk) == "not claimable"  # in doubt: staff decide
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundEmail.Status.FAILED)
    assert email_deliver.call(email.pk) == "sent"
    assert f"Message-ID: {email.message_id()}".encode() in server.messages[0]


def test_an_admin_sends_a_mail_in_doubt_again_from_the_outbox(client, cast, password, outbox):
    email = OutboundEmail.objects.create(
        to="bob@example.org", subject="Test", body="Hallo", status=OutboundEmail.Status.IN_DOUBT
    )
    sent = OutboundEmail.objects.create(
        to="bob@example.org", subject="Alt", body="Hallo", status=OutboundEmail.Status.SENT
    )
    client.login(email="ada@example.org", password=password)
    otp_verify(client, cast.ada)
    response = client.post(
        "/verwaltung/mail/outboundemail/",
        {"action": "send_again", "_selected_action": [email.pk, sent.pk]},
    )
    assert response.status_code == 302
    email.refresh_from_db()
    sent.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert sent.attempts == 0  # a sent one is never sent again
    assert [m.subject for m in outbox] == ["Test"]
    # A handler has no outbox to act on.
    client.login(email="hanna@example.org", password=password)
    response = client.post(
        "/verwaltung/mail/outboundemail/",
        {"action": "send_again", "_selected_action": [email.pk]},
    )
    assert response.status_code == 403


class BatchSink:
    """Accepts every message, but keeps the worker waiting after receiving
    the `stall_on`-th text (the server has it; the client never hears
    back), and answers "try again later" to flaky@ the first time."""

    def __init__(self, stall_on: int):
        self.stall_on = stall_on
        self.stalled = threading.Event()
        self.refused_once = False
        self.messages: list[bytes] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == "flaky@example.org" and not self.refused_once:
            self.refused_once = True
            return "451 4.3.0 Please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        if len(self.messages) == self.stall_on:
            self.stalled.set()
            await asyncio.sleep(60)
        return "250 Message accepted for delivery"

    def received(self) -> list:
        return [message_from_bytes(m, policy=policy.default) for m in self.messages]


def _batch() -> list[OutboundEmail]:
    """Thirty e-mails created while no worker ran (ten minutes ago): three
    about one request to alice (the middle one written by a handler), one
    to an address whose server says "later" at first, and notifications."""
    emails = [
        OutboundEmail(to="alice@example.org", subject=f"Anliegen {i}", body="Hallo",
                      thread="A-2026-000042", written=i == 1)
        for i in range(3)
    ]  # fmt: skip
    emails += [OutboundEmail(to="bob@example.org", subject="Zugangscode", body="Hallo")]
    emails += [OutboundEmail(to="flaky@example.org", subject="Bestätigung", body="Hallo")]
    emails += [
        OutboundEmail(to=f"member{i}@example.org", subject=f"Nachricht {i}", body="Hallo")
        for i in range(5, 30)
    ]
    # One by one: thread_headers relies on the order of the keys.
    for email in emails:
        email.save()
    ten_minutes_ago = timezone.now() - datetime.timedelta(minutes=10)
    OutboundEmail.objects.update(created_at=ten_minutes_ago)
    return list(OutboundEmail.objects.order_by("pk"))


def _mail_retry() -> str:
    out = io.StringIO()
    call_command("mail_retry", stdout=out)
    return out.getvalue()


def _worker_run(env: dict[str, str]) -> None:
    worker = _worker_start(env)
    assert worker.wait(timeout=120) == 0


def test_a_batch_killed_mid_way_arrives_exactly_once(cast, settings):
    """Thirty e-mails for the database worker; the SMTP server keeps it
    waiting on the twelfth text and the worker is killed. After mail_retry
    (every minute) and a fresh worker, every e-mail arrived exactly once,
    except the one whose text the server had taken, which arrived once
    and is listed for staff instead of being sent again (issue 12)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with smtp_server(BatchSink(stall_on=12), settings) as sink:
        emails = _batch()
        thread, flaky, doubt = emails[:3], emails[4], emails[12]
        for email in emails:
            email_deliver.enqueue(email.pk)
        env = _worker_env(settings)
        worker = _worker_start(env)
        try:
            assert sink.stalled.wait(timeout=60), "the worker never reached the twelfth text"
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

        Status = OutboundEmail.Status
        status = dict(OutboundEmail.objects.values_list("pk", "status"))
        assert Counter(status.values()) == {
            Status.SENT: 11, Status.FAILED: 1, Status.SENDING: 1, Status.QUEUED: 17
        }  # fmt: skip
        assert status[flaky.pk] == Status.FAILED and status[doubt.pk] == Status.SENDING

        # The timer runs after the lease of the killed attempt has run out;
        # the flaky address is still in its first minute of backoff.
        settings.MAIL_LEASE_SECONDS = 0
        report = _mail_retry()
        assert "17 e-mail(s) re-enqueued; 0 stopped before the mail server, 1 stopped after" in (
            report
        )
        # The killed worker's tasks are still in the queue too: a second
        # task for the same e-mail finds nothing to claim.
        _worker_run(env)
        flaky.refresh_from_db()
        assert flaky.status == Status.FAILED and flaky.attempts == 1
        assert "451" in flaky.last_error

        # Its backoff passes.
        OutboundEmail.objects.filter(pk=flaky.pk).update(
            next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        assert _mail_retry().startswith("1 e-mail(s) re-enqueued")
        _worker_run(env)
        assert _mail_retry().startswith("0 e-mail(s) re-enqueued; 0 stopped before")

        received = sink.received()
        arrived = Counter(m["Message-ID"] for m in received)
        for email in emails:
            assert arrived[email.message_id()] == 1, email.subject
        assert sum(arrived.values()) == 30
        status = dict(OutboundEmail.objects.values_list("pk", "status"))
        assert Counter(status.values()) == {Status.SENT: 29, Status.IN_DOUBT: 1}
        assert list(emails_failing()) == [OutboundEmail.objects.get(pk=doubt.pk)]
        assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()
        flaky.refresh_from_db()
        assert flaky.attempts == 2 and flaky.last_error == ""

        # What went out: notifications say so, a handler's text does not,
        # and the request's messages form one conversation.
        by_id = {m["Message-ID"]: m for m in received}
        first, second, third = (by_id[e.message_id()] for e in thread)
        assert first["Auto-Submitted"] == "auto-generated" and first["In-Reply-To"] is None
        assert second["Auto-Submitted"] is None
        assert second["In-Reply-To"] == second["References"] == thread[0].message_id()
        assert third["In-Reply-To"] == thread[1].message_id()
        assert third["References"] == f"{thread[0].message_id()} {thread[1].message_id()}"
        assert by_id[flaky.message_id()]["Auto-Submitted"] == "auto-generated"

        # Staff check with the member and send the one in doubt again: the
        # copy carries the same Message-ID, so her mail program shows one.
        assert email_send_again(email=doubt, actor=cast.ada)
        _worker_run(env)
        doubt.refresh_from_db()
        assert doubt.status == Status.SENT and doubt.sent_again_by == cast.ada
        again = Counter(m["Message-ID"] for m in sink.received())
        assert again[doubt.message_id()] == 2 and sum(again.values()) == 31
        assert not emails_failing().exists()
