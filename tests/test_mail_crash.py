"""A worker killed in the middle of sending never makes a member get the
same e-mail twice: real SMTP on loopback, a real db_worker process, SIGKILL
while the server is slow to answer."""

import asyncio
import datetime
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from mail.models import OutboundEmail
from mail.tasks import email_deliver
from tests.helpers import otp_verify
from tests.mailserver import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


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


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


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
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GENOPORTAL_TASKS_IMMEDIATE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DATABASE_URL=_database_url(),
        EMAIL_BACKEND=settings.EMAIL_BACKEND,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(settings.EMAIL_PORT),
        GENOPORTAL_LOG_LEVEL="CRITICAL",
    )
    manage = [sys.executable, "manage.py"]
    enqueue = f"from mail.tasks import email_deliver; email_deliver.enqueue({email.pk})"
    subprocess.run([*manage, "shell", "-c", enqueue], cwd=ROOT, env=env, check=True, timeout=60)
    worker = subprocess.Popen(
        [*manage, "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
