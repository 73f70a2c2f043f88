"""The e-mail channel in a real Chromium (issue 12): hanna opens a request
that came from an address not on file, confirms the suggested member with
the keyboard only, reads the message as it came, and looks at the messages
that made no request — axe-core finds nothing at 1280 and 360 px."""

import pytest

from mail.models import BouncingAddress, InboundEmail
from mailroom.services import mail_ingest
from tests.browser import check_page, log_in, tab_to
from tests.factories import mail
from tests.helpers import de
from tickets.models import Ticket

pytestmark = pytest.mark.browser


def test_hanna_confirms_whose_mail_it_is_and_reads_the_original(page, live_server, cast, password):
    base = live_server.url
    email = mail_ingest(
        raw=mail(
            sender="Alice Ahrens <a.ahrens-privat@gmx.example>",
            subject="Fenster undicht – eine sehr lange Betreffzeile ohne Leerzeichen_" + "x" * 80,
            body="Guten Tag,\n\nmeine Mitgliedsnummer ist 20001, ich wohne Nordring 1.\n"
            "Das Fenster im Bad ist undicht.\n\nAm 12.03.2026 um 09:14 schrieb Service:\n"
            "> Ältere Nachricht\n",
        ),
        mailbox="service",
    )
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member is None
    BouncingAddress.objects.create(
        address="a.ahrens-privat@gmx.example", last_bounce_at=email.created_at
    )
    log_in(page, base, "hanna@example.org", password)
    page.goto(f"{base}/bearbeitung/anliegen/{ticket.reference}/")
    assert page.get_by_text(de("E-mail does not arrive")).count() == 1
    check_page(page)

    # The suggested member, confirmed with the keyboard.
    button = page.get_by_role("button", name=de("It is from %(name)s") % {"name": "Alice Ahrens"})
    assert button.count() == 1
    tab_to(page, 'form:has(input[name="member-member_number"][value="20001"]) button', limit=120)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    ticket.refresh_from_db()
    assert ticket.member == cast.alice.member
    notice = de("The request now belongs to %(name)s.") % {"name": "Alice Ahrens"}
    assert page.get_by_text(notice).count() == 1
    check_page(page)

    # The message as it came, with the quoted history.
    page.get_by_role(
        "link", name=de("The e-mail as it came (full text, headers, original file)")
    ).click()
    page.wait_for_url(f"{base}/bearbeitung/e-mail/{email.pk}/")
    assert "Ältere Nachricht" in page.locator(".mail-text").inner_text()
    check_page(page)


def test_the_messages_that_made_no_request_are_listed_and_readable(
    page, live_server, cast, password
):
    base = live_server.url
    junk = mail_ingest(raw=b"\x00\x01 kaputt " + b"y" * 300, mailbox="service")
    assert junk.status == InboundEmail.Status.QUARANTINE
    log_in(page, base, "hanna@example.org", password)
    page.get_by_role("link", name=de("E-mail intake")).click()
    page.wait_for_url(f"{base}/bearbeitung/e-mail/")
    check_page(page)
    page.get_by_role("link", name=de("(no subject)")).click()
    page.wait_for_url(f"{base}/bearbeitung/e-mail/{junk.pk}/")
    check_page(page)
    page.goto(f"{base}/bearbeitung/e-mail/")
    page.get_by_role("link", name=de("Automatic replies")).click()
    page.wait_for_url(f"{base}/bearbeitung/e-mail/?status=auto_reply")
    assert page.get_by_text(de("No messages of this kind.")).count() == 1
    check_page(page)
    page.get_by_role("link", name=de("Our e-mails that did not go out")).click()
    page.wait_for_url(f"{base}/bearbeitung/e-mail/?status=outbound")
    check_page(page)
