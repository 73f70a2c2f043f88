"""fetch_mail against a real IMAP server (issue 12): Dovecot, started here
on loopback ports with a throwaway configuration, certificate and Maildir;
messages go in by IMAP APPEND as a mail server would deliver them. Read
twice, read with STARTTLS and with IMAPS, moved to a done folder,
interrupted between storing a message and marking it, a real fetch_mail
process killed half-way, and a message over
the size limit left on the server with only its headers taken in."""

import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from mail.models import InboundEmail
from mailroom import imap
from mailroom.services import BATCH_MESSAGES
from tests.conftest import IN_CI
from tests.helpers import database_url
from tickets.models import Channel, Ticket

pytestmark = pytest.mark.django_db

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "geheim-imap"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def dovecot():
    if not Path(DOVECOT).exists():
        if IN_CI:
            pytest.fail("dovecot is not installed (.ci/run installs dovecot-imapd)")
        pytest.skip("dovecot not installed: apt-get install dovecot-imapd")
    # Not under pytest's temporary directory: that is private to the user
    # running the tests, and Dovecot's own processes must read and write here.
    root = Path(tempfile.mkdtemp(prefix="genoportal-dovecot-"))
    root.chmod(0o755)
    (root / "base").mkdir()
    (root / "mail").mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    if os.getuid() == 0:
        # Dovecot refuses to run its login processes as root, and mail as uid 0.
        user = pwd.getpwnam("dovecot")
        uid, gid, login, internal = user.pw_uid, user.pw_gid, "dovenull", "dovecot"
        shutil.chown(root / "mail", uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
        login = internal = os.environ.get("USER") or str(uid)
    (root / "passwd").write_text(f"portal:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/mail/portal\n")
    plain, secure = free_port(), free_port()
    (root / "dovecot.conf").write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/base
instance_name = genoportal-test-{plain}
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
mail_location = maildir:~/Maildir
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {internal}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {plain}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {secure}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    server = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", secure), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {server.stderr.read()!r} {log}")
            time.sleep(0.1)
    yield {"root": root, "plain": plain, "secure": secure, "cafile": str(root / "cert.pem")}
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(root, ignore_errors=True)


def client(dovecot) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=dovecot["cafile"])
    connection = imaplib.IMAP4_SSL("127.0.0.1", dovecot["secure"], ssl_context=context)
    connection.login("portal", PASSWORD)
    return connection


@pytest.fixture
def inbox(dovecot):
    """An empty INBOX (and no done folder) for each test."""
    connection = client(dovecot)
    _, count = connection.select("INBOX")
    if int(count[0]):
        connection.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
        connection.expunge()
    connection.delete('"Erledigt"')
    connection.logout()
    return dovecot


def deliver(dovecot, *messages: bytes) -> None:
    connection = client(dovecot)
    for raw in messages:
        status, _ = connection.append("INBOX", None, None, raw)
        assert status == "OK"
    connection.logout()


def message(number: int, sender: str = "alice@example.org") -> bytes:
    built = EmailMessage()
    built["From"] = sender
    built["Subject"] = f"Anliegen Nummer {number}"
    built["Message-ID"] = f"<imap-{number}@example.org>"
    built.set_content(f"Text des Anliegens {number}: Die Tür klemmt.")
    return built.as_bytes()


def flags(dovecot, folder: str = "INBOX") -> list[str]:
    connection = client(dovecot)
    _, count = connection.select(f'"{folder}"')
    data = connection.fetch("1:*", "(FLAGS)")[1] if int(count[0]) else []
    connection.logout()
    return [item.decode() for item in data if item]


def fetch(dovecot, monkeypatch, *extra: str, security: str = "starttls") -> str:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    args = ["--imap-host", "127.0.0.1", "--imap-user", "portal",
            "--imap-password-env", "TEST_IMAP_PASSWORD", "--cafile", dovecot["cafile"],
            "--mailbox", "service", *extra]  # fmt: skip
    if security == "starttls":
        args += ["--starttls", "--imap-port", str(dovecot["plain"])]
    else:
        args += ["--imap-port", str(dovecot["secure"])]
    out = StringIO()
    call_command("fetch_mail", *args, stdout=out)
    return out.getvalue()


def test_fetch_mail_with_starttls_reads_each_message_once_and_flags_it_seen(
    cast, inbox, monkeypatch
):
    deliver(inbox, message(1), message(2, sender="stranger@example.net"))
    out = fetch(inbox, monkeypatch)
    assert "service: 2 message(s) processed" in out
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 2
    assert {e.mailbox for e in InboundEmail.objects.all()} == {"service"}
    assert all("\\Seen" in line for line in flags(inbox))
    # Fetched again: nothing new, nothing twice.
    assert "service: 0 message(s) processed" in fetch(inbox, monkeypatch)
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 2


def test_fetch_mail_with_imaps_moves_what_it_read_to_the_done_folder(cast, inbox, monkeypatch):
    deliver(inbox, message(3), message(4))
    out = fetch(inbox, monkeypatch, "--done-folder", "Erledigt", security="ssl")
    assert "2 message(s) processed" in out
    assert flags(inbox) == [] and len(flags(inbox, "Erledigt")) == 2
    assert "0 message(s) processed" in fetch(inbox, monkeypatch, "--done-folder", "Erledigt",
                                             security="ssl")  # fmt: skip


def test_a_fetch_interrupted_between_storing_and_marking_loses_and_doubles_nothing(
    cast, inbox, monkeypatch
):
    deliver(inbox, message(5), message(6), message(7))
    real = imap.mail_ingest_batches

    def dies_after_the_commit(items, *, process):
        for _batch in real(items, process=process):
            raise KeyboardInterrupt  # committed; the process dies before the server hears of it
        yield from ()

    monkeypatch.setattr(imap, "mail_ingest_batches", dies_after_the_commit)
    with pytest.raises(KeyboardInterrupt):
        fetch(inbox, monkeypatch)
    assert InboundEmail.objects.count() == 3
    assert not any("\\Seen" in line for line in flags(inbox))  # none was marked
    monkeypatch.setattr(imap, "mail_ingest_batches", real)
    out = fetch(inbox, monkeypatch)
    assert "3 message(s) processed" in out  # read again, recognised
    assert InboundEmail.objects.count() == 3
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 3
    assert all("\\Seen" in line for line in flags(inbox))


def test_a_fetch_interrupted_before_its_batch_commits_leaves_everything_unread(
    cast, inbox, monkeypatch
):
    deliver(inbox, message(15), message(16), message(17))
    before = Ticket.objects.count()
    real = imap.mail_ingest
    stored = []

    def dies_at_the_second(**kwargs):
        email = real(**kwargs)  # stored, not committed yet: the batch commits as one
        stored.append(email)
        if len(stored) == 2:
            raise KeyboardInterrupt
        return email

    monkeypatch.setattr(imap, "mail_ingest", dies_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        fetch(inbox, monkeypatch)
    assert not InboundEmail.objects.exists() and Ticket.objects.count() == before
    assert not any("\\Seen" in line for line in flags(inbox))
    monkeypatch.setattr(imap, "mail_ingest", real)
    assert "3 message(s) processed" in fetch(inbox, monkeypatch)
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == 3
    assert all("\\Seen" in line for line in flags(inbox))


def test_a_wrong_password_is_a_clear_error_and_changes_nothing(cast, inbox, monkeypatch):
    deliver(inbox, message(8))
    monkeypatch.setenv("TEST_IMAP_PASSWORD", "falsch")
    with pytest.raises(imaplib.IMAP4.error):
        call_command(
            "fetch_mail", "--imap-host", "127.0.0.1", "--imap-port", str(inbox["secure"]),
            "--imap-user", "portal", "--imap-password-env", "TEST_IMAP_PASSWORD",
            "--cafile", inbox["cafile"],
        )  # fmt: skip
    assert not InboundEmail.objects.exists()
    assert all("\\Seen" not in line for line in flags(inbox))


@pytest.mark.parametrize("done_folder", ["", "Erledigt"])
def test_a_message_over_the_limit_is_left_on_the_server_and_only_its_headers_kept(
    cast, inbox, monkeypatch, settings, done_folder
):
    settings.MAIL_MAX_BYTES = 64 * 1024
    big = EmailMessage()
    big["From"] = "alice@example.org"
    big["Subject"] = "Fotos vom Wasserschaden"
    big["Message-ID"] = "<imap-gross@example.org>"
    big.set_content("Anbei die Fotos.")
    big.add_attachment(os.urandom(100 * 1024), maintype="image", subtype="jpeg",
                       filename="schaden.jpg")  # fmt: skip
    raw = big.as_bytes()
    deliver(inbox, raw, message(9))
    extra = ("--done-folder", done_folder) if done_folder else ()
    out = fetch(inbox, monkeypatch, *extra)
    assert "service: 2 message(s) processed" in out
    kept = InboundEmail.objects.get(status=InboundEmail.Status.QUARANTINE)
    on_server = re.sub(rb"\r?\n", b"\r\n", raw)  # as APPEND stored it
    headers = on_server[: on_server.index(b"\r\n\r\n") + 4]
    assert bytes(kept.raw) == headers and b"Anbei die Fotos" not in bytes(kept.raw)
    assert kept.size == len(on_server) and kept.subject == "Fotos vom Wasserschaden"
    assert kept.notes[0]["kind"] == "too_large" and kept.notes[0]["size"] == len(on_server)
    assert "left in the mailbox service, folder INBOX, UID" in kept.notes[0]["where"]
    # The small one next to it became a request.
    assert "Anliegen Nummer 9" in Ticket.objects.get(channel=Channel.EMAIL).answers_text()
    # The large one is still in the INBOX, flagged read, never moved.
    left = flags(inbox)
    assert len(left) == (2 if not done_folder else 1) and all("\\Seen" in f for f in left)
    connection = client(inbox)
    connection.select("INBOX")
    found = connection.uid("SEARCH", None, 'HEADER Message-ID "imap-gross@example.org"')[1]
    assert found[0].split(), "the original is still on the server"
    connection.logout()
    # Read again: still one row for it.
    fetch(inbox, monkeypatch, *extra)
    assert InboundEmail.objects.filter(status=InboundEmail.Status.QUARANTINE).count() == 1
    assert InboundEmail.objects.count() == 2 and Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fetch_mail_killed_mid_way_loses_and_doubles_nothing(cast, inbox, monkeypatch):
    """A real `manage.py fetch_mail` process, SIGKILLed while it works
    through the mailbox; the next run takes in the rest: every message
    exactly once, every message marked."""
    count = 60
    # From sixty people (one sender would meet the hourly limit per sender).
    deliver(inbox, *(message(100 + n, sender=f"mieter{n}@example.net") for n in range(count)))
    env = {k: v for k, v in os.environ.items() if k != "GENOPORTAL_TASKS_IMMEDIATE"}
    env.update(
        DATABASE_URL=database_url(), TEST_IMAP_PASSWORD=PASSWORD, GENOPORTAL_LOG_LEVEL="CRITICAL"
    )
    command = [
        sys.executable, "manage.py", "fetch_mail", "--imap-host", "127.0.0.1",
        "--imap-port", str(inbox["plain"]), "--starttls", "--imap-user", "portal",
        "--imap-password-env", "TEST_IMAP_PASSWORD", "--cafile", inbox["cafile"],
        "--mailbox", "service",
    ]  # fmt: skip
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while InboundEmail.objects.count() < 5 and time.monotonic() < deadline:
        assert worker.poll() is None, "fetch_mail ended before it could be killed"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    taken = InboundEmail.objects.count()
    assert 5 <= taken < count, taken  # killed in the middle
    seen = sum("\\Seen" in line for line in flags(inbox))
    # At most the last batch committed but not marked yet.
    assert taken - BATCH_MESSAGES <= seen <= taken

    out = fetch(inbox, monkeypatch)
    assert f"{count - seen} message(s) processed" in out
    ids = list(InboundEmail.objects.values_list("message_id", flat=True))
    assert sorted(ids) == sorted(f"imap-{100 + n}@example.org" for n in range(count))
    assert Ticket.objects.filter(channel=Channel.EMAIL).count() == count
    assert all("\\Seen" in line for line in flags(inbox))
