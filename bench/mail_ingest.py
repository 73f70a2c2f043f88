"""Mail intake speed (issue 12): messages per second through
`manage.py fetch_mail --maildir`, the path every mailbox takes
(mailroom.services.mail_ingest: parse, store raw, route, open or join a
request, queue the confirmation), on a fresh database with the demo data.

    .venv/bin/python bench/mail_ingest.py [--messages 500] [--database-url postgres://…/gp_bench]

The mix: new requests from members (half of them) and from strangers,
replies to earlier requests by their reference, out-of-office replies and
bounces, some with a photo attached. Prints messages/s, the outcome of
each kind and the SQL statements of one new request; exits 1 when the rate
is under --target (issue 12: 50 messages/s)."""

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from email.message import EmailMessage
from io import BytesIO, StringIO
from pathlib import Path

from PIL import Image

# Run as a script: the project root on the path, for bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.member_pages import drop_database, prepare_database

TEXTS = [
    "Der Wasserhahn im Bad tropft seit einigen Tagen.",
    "Die Heizung im Wohnzimmer bleibt kalt, bitte schicken Sie jemanden vorbei.",
    "Im Schlafzimmer bildet sich Schimmel an der Außenwand.",
    "Bitte senden Sie mir eine Mitgliedsbescheinigung für das Amt.",
    "Meine Bankverbindung hat sich geändert, die neue IBAN folgt per Post.",
    "Wann ist die nächste Mitgliederversammlung?",
]


def photo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def message(number: int, *, sender: str, subject: str, text: str, **headers) -> bytes:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = "service@genossenschaft.example"
    built["Subject"] = subject
    built["Message-ID"] = f"<bench-{number}@mail.example>"
    for name, value in headers.items():
        if name != "image":
            built[name.replace("_", "-")] = value
    built.set_content(f"Guten Tag,\n\n{text}\n\nMit freundlichen Grüßen\n")
    if headers.get("image"):
        built.add_attachment(headers["image"], maintype="image", subtype="jpeg",
                             filename=f"foto-{number}.jpg")  # fmt: skip
    return built.as_bytes()


def mix(rng: random.Random, count: int, members: list[str], references: list[str], image: bytes):
    """(kind, raw) for `count` messages, in a fixed random order."""
    kinds = ["member"] * 10 + ["stranger"] * 4 + ["reply"] * 4 + ["auto"] + ["bounce"]
    for number in range(count):
        kind = rng.choice(kinds)
        text = rng.choice(TEXTS)
        extra = {"image": image} if rng.random() < 0.2 else {}
        if kind == "member":
            raw = message(number, sender=rng.choice(members), subject=text[:40], text=text, **extra)
        elif kind == "stranger":
            raw = message(number, sender=f"person{number}@web.example", subject=text[:40],
                          text=text, **extra)  # fmt: skip
        elif kind == "reply":
            reference, owner = rng.choice(references)
            raw = message(number, sender=owner, subject=f"AW: [{reference}] Ihr Anliegen",
                          text="Danke, das passt so.\n\nAm 12.03.2026 schrieb Service:\n> alt")  # fmt: skip
        elif kind == "auto":
            raw = message(number, sender=rng.choice(members), subject="Abwesenheitsnotiz",
                          text="Ich bin im Urlaub.", Auto_Submitted="auto-replied")  # fmt: skip
        else:
            raw = (
                "From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n"
                f"Message-ID: <dsn-{number}@mx.example>\r\nMIME-Version: 1.0\r\n"
                'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
                "--r\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n--r\r\n"
                "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
                f"Final-Recipient: rfc822; gone{number}@example.org\r\nAction: failed\r\n\r\n"
                "--r--\r\n"
            ).encode()
        yield kind, raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--target", type=float, default=50.0, help="messages/s (issue 12)")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite, temporary)")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="genoportal-bench-mail-"))
    try:
        database = prepare_database(args.database_url, workdir)
        # Django is set up by now (prepare_database).
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from demo.cast import build_demo
        from demo.routing import routing_demo_ensure
        from mail.models import InboundEmail
        from mailroom.services import mail_ingest, mail_ingest_batches

        # The per-sender hourly limit would set most of a few members'
        # messages aside; this measures processing them.
        settings.MAIL_SENDER_LIMIT_PER_HOUR = 10**9
        cast = build_demo(units_per_building=4)
        # The demo's routing rules, SLA policies and absences (as in
        # seed_demo): without them every request fell through to its
        # form's default team, and the intake never read the staff's state
        # or worked out a deadline as it does in a real cooperative.
        routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)
        members = ["alice@example.org", "bob@example.org", "dave@example.org"]
        rng = random.Random(args.seed)
        references = [
            (
                mail_ingest(
                    raw=message(-n, sender=members[n % 3], subject="Vorab", text=TEXTS[n % 6]),
                    mailbox="bench",
                ).ticket_reference,
                members[n % 3],
            )
            for n in range(1, 11)
        ]
        image = photo()
        folder = workdir / "inbox"
        for sub in ("new", "cur", "tmp"):
            (folder / sub).mkdir(parents=True)
        kinds = Counter()
        for number, (kind, raw) in enumerate(mix(rng, args.messages, members, references, image)):
            (folder / "new" / f"{1790000000 + number}.M{number}P1.bench").write_bytes(raw)
            kinds[kind] += 1
        before = InboundEmail.objects.count()
        started = time.perf_counter()
        call_command("fetch_mail", maildir=str(folder), mailbox="bench", stdout=StringIO())
        seconds = time.perf_counter() - started
        done = InboundEmail.objects.count() - before
        outcomes = Counter(
            InboundEmail.objects.filter(mailbox="bench").exclude(message_id__startswith="bench--")
            .values_list("status", flat=True)
        )  # fmt: skip
        with CaptureQueriesContext(connection) as captured:
            mail_ingest(
                raw=message(10**6, sender=members[0], subject="Eine mehr", text=TEXTS[0]),
                mailbox="bench",
            )
        batch = [
            message(10**6 + n, sender=members[n % 3], subject="Noch eine", text=TEXTS[n % 6])
            for n in range(1, 11)
        ]
        with CaptureQueriesContext(connection) as batched:
            for _ in mail_ingest_batches(
                batch, process=lambda raw: mail_ingest(raw=raw, mailbox="bench")
            ):
                pass
    finally:
        if "django" in sys.modules:
            drop_database(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)

    rate = done / seconds if seconds else 0.0
    print(f"mail intake on {database}: {done} messages in {seconds:.1f} s = {rate:.1f} messages/s")
    print("sent: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    print("outcomes: " + ", ".join(f"{status} {n}" for status, n in sorted(outcomes.items())))
    print(f"SQL statements for one new member request: {len(captured.captured_queries)} alone, "
          f"{len(batched.captured_queries) / len(batch):.1f} each in a batch of {len(batch)}")  # fmt: skip
    verdict = "OK" if rate >= args.target else "UNDER TARGET"
    print(f"target {args.target:.0f} messages/s: {verdict}")
    return 0 if rate >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
