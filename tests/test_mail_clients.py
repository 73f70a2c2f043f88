"""What German members' mail programs really send (issue 12): the raw
messages in tests/data/mail/clients/ (its README says what each is for) —
Outlook, Thunderbird, Apple Mail, GMX, Web.de, T-Online, mailx and Windows
Live Mail; every charset, honest and mislabelled; quoted-printable and
base64; HTML only; a forward, a bounce, automatic replies, an S/MIME
signature — each read to its subject, sender, the text a handler is shown,
kind, attachments and reference, and a few taken through the intake."""

from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from mail.models import BouncingAddress, InboundEmail, OutboundEmail
from mail.parse import Kind, html_to_text, is_forward, parse, reference_in, reply_text, unflow
from mailroom.services import mail_ingest
from tickets.models import Status, Ticket, TicketEvent

CLIENTS = Path(__file__).resolve().parent / "data" / "mail" / "clients"
Outcome = InboundEmail.Status


@dataclass(frozen=True)
class Expected:
    subject: str
    sender: str
    name: str
    shows: str  # reply_text(text): what a handler sees, exactly
    hides: tuple[str, ...] = ()  # the quoted message and its quote header: not shown
    kind: str = Kind.MESSAGE
    reference: str | None = None
    attachments: tuple[tuple[str, str], ...] = ()  # (file name, content type)
    bounced: tuple[str, ...] = ()
    forward: bool = False
    keeps: tuple[str, ...] = ()  # in the full text (a forward's forwarded message)


GREETING_HANNA = ("Mit freundlichen Grüßen\nHanna Beispiel", "Hanna Beispiel")

EXPECTED = {
    "outlook_reply_iso8859-1_cp1252.eml": Expected(
        subject="AW: [A-2026-004711] Heizung im Bad",
        sender="alice@example.org",
        name="Ahrens, Alice",
        reference="A-2026-004711",
        shows=(
            "Guten Tag Frau Beispiel,\n\n"
            "seit Montag, 9. März. Der Heizkörper im Bad bleibt kalt, das Thermostat steht auf "
            "„5“. Die Rechnung für den Notdienst – 89,50 € – lege ich bei, falls das relevant "
            "ist.\n\nMit freundlichen Grüßen\nAlice Ahrens"
        ),
        hides=("Ursprüngliche Nachricht", "Gesendet:", "Betreff:", "seit wann ist die Heizung"),
    ),
    "outlook_winmail_cp1252_base64.eml": Expected(
        subject="AW: [A-2026-004712] Wasserzähler Ablesung",
        sender="g.mueller@firma.example",
        name="Müller, Günter",
        reference="A-2026-004712",
        shows=(
            "Sehr geehrte Damen und Herren,\n\n"
            "anbei wie besprochen die Zählerstände vom 12.03.: Kaltwasser Küche 00412,7 m³, "
            "Warmwasser 00198,3 m³.\n\nMit freundlichen Grüßen\nGünter Müller"
        ),
        hides=("____", "Von:", "Gesendet:", "bitte teilen Sie uns"),
        attachments=(("winmail.dat", "application/ms-tnef"),),
    ),
    "outlook_forward_utf8_qp.eml": Expected(
        subject="WG: Wasser in der Decke",
        sender="alice@example.org",
        name="Ahrens, Alice",
        forward=True,
        shows=(
            "Hallo,\n\nzur Info: meine Nachbarin aus dem 3. OG schreibt mir, dass bei ihr Wasser "
            "durch die Decke kommt. Können Sie bitte jemanden schicken?\n\nGruß\nAlice Ahrens"
        ),
        hides=("Von: Erika Nachbar", "Liebe Frau Ahrens"),
        keeps=(
            "Von: Erika Nachbar <erika@web.example>",
            "bei mir im Badezimmer tropft seit heute Nacht Wasser aus der Decke.",
        ),
    ),
    "thunderbird_reply_utf8_flowed.eml": Expected(
        subject="Re: [A-2026-004713] Ventil tropft",
        sender="juergen.weiss@posteo.example",
        name="Jürgen Weiß",
        reference="A-2026-004713",
        shows=(
            "Guten Tag Frau Beispiel,\n\n"
            "vielen Dank für die schnelle Rückmeldung. Der Monteur kann gern am Dienstag "
            "zwischen 8 und 12 Uhr kommen, ich bin zu Hause. Der Schlüssel für den Keller "
            "liegt bei Familie Özdemir im Erdgeschoss.\n\n"
            "Viele Grüße\nJürgen Weiß\n\n--\nJürgen Weiß · Lindenstraße 5 · 10115 Berlin"
        ),
        hides=("schrieb", "Sehr geehrter Herr Weiß", "Monteur für das tropfende", ">"),
    ),
    "thunderbird_attachment_rfc2231.eml": Expected(
        subject="Wasserschaden in der Küche",
        sender="alice@example.org",
        name="Alice Ahrens",
        shows=(
            "Guten Abend,\n\nunter der Spüle in der Küche ist alles nass, das Foto hängt an. "
            "Der Wasserhahn ist zugedreht.\n\nGrüße\nAlice Ahrens"
        ),
        attachments=(("Schaden_Küche.jpg", "image/jpeg"),),
    ),
    "thunderbird_smime_signed.eml": Expected(
        subject="Kündigung Stellplatz 14",
        sender="t.foerster@kanzlei-foerster.example",
        name="Dr. Thomas Förster",
        shows=(
            "Sehr geehrte Damen und Herren,\n\nhiermit kündige ich den Tiefgaragenstellplatz "
            "Nr. 14 fristgerecht zum 30.06.2026.\n\nMit freundlichen Grüßen\nDr. Thomas Förster"
        ),
        hides=("MIAGCSqGSIb3",),
        attachments=(("smime.p7s", "application/pkcs7-signature"),),
    ),
    "apple_mail_reply_utf8_qp.eml": Expected(
        subject="Re: [A-2026-004715] Waschmaschine Gemeinschaftskeller",
        sender="oezlem.yilmaz@icloud.example",
        name="Özlem Yılmaz",
        reference="A-2026-004715",
        shows=(
            "Hallo Frau Beispiel,\n\ndie Waschmaschine im Gemeinschaftskeller läuft wieder – "
            "danke! Nur die Tür vom Trockenraum klemmt noch ein bisschen.\n\n"
            "Liebe Grüße\nÖzlem Yılmaz"
        ),
        hides=("schrieb", "wurde heute repariert", *GREETING_HANNA),
    ),
    "gmx_html_only_utf8_qp.eml": Expected(
        subject="Aw: [A-2026-004714] Aufzug Haus 3",
        sender="b.schaefer@gmx.example",
        name="Brigitte Schäfer",
        reference="A-2026-004714",
        shows=(
            "Guten Tag Frau Beispiel,\n\nder Aufzug steht schon wieder, diesmal zwischen dem 3. "
            "und 4. OG. Meine Mutter (87) kommt so nicht aus der Wohnung.\n\n"
            "Viele Grüße\nBrigitte Schäfer"
        ),
        hides=(
            "Gesendet:",
            "Donnerstag, 12. März 2026 um 09:14 Uhr",
            "Betreff:",
            "funktioniert der Aufzug wieder",
            *GREETING_HANNA,
        ),
    ),
    "webde_reply_iso8859-1.eml": Expected(
        subject="Aw: [A-2026-004716] Rauchmelder Wartung",
        sender="horst.kuehn@web.example",
        name="Horst Kühn",
        reference="A-2026-004716",
        shows=(
            "Hallo,\n\nja, der Termin am Freitag um 10 Uhr passt mir. Bitte klingeln Sie bei "
            "Kühn im 1. OG rechts.\n\nGruß\nHorst Kühn"
        ),
        hides=("Gesendet:", "Von:", "Betreff:", "Sehr geehrter Herr Kühn", "Wartung der"),
    ),
    "tonline_reply_iso8859-15_qp.eml": Expected(
        subject="AW: [A-2026-004717] Nebenkostenabrechnung 2025",
        sender="renate.gross@t-online.example",
        name="Renate Groß",
        reference="A-2026-004717",
        shows=(
            "Sehr geehrte Frau Beispiel,\n\ndie Nebenkostenabrechnung 2025 habe ich erhalten. "
            "Die Nachzahlung von 312,40 € überweise ich bis Monatsende.\n\n"
            "Mit freundlichen Grüßen\nRenate Groß"
        ),
        hides=("Original-Nachricht", "Datum:", "Sehr geehrte Frau Groß", "¤"),
    ),
    "tonline_html_only_cp1252_base64.eml": Expected(
        subject="Treppenhaus Haus 2 – Licht defekt",
        sender="w.moeller@t-online.example",
        name="Wolfgang Möller",
        shows=(
            "Sehr geehrte Damen und Herren,\n\nim Treppenhaus Haus 2 ist seit Tagen das Licht im "
            "2. OG defekt – „Bewegungsmelder“ reagiert nicht. Für die Glühbirne habe ich "
            "4,99 € ausgelegt.\n\nMit freundlichen Grüßen\nWolfgang Möller\nGenossenschaftsweg 7"
        ),
    ),
    "mailx_us-ascii_8bit_latin1.eml": Expected(
        subject="Zählerstand Strom Keller",
        sender="kh.baecker@example.net",
        name="Karl-Heinz Bäcker",
        shows=(
            "Guten Abend,\n\nder Zählerstand für den Strom im Keller (Zähler Nr. 1APA0045871) ist "
            "heute 48213 kWh.\n\nGrüße aus der Gartenstraße\nKarl-Heinz Bäcker"
        ),
    ),
    "windows-live-mail_utf8_latin1.eml": Expected(
        subject="Mülltonnen Hof",
        sender="ingrid.lehmann@arcor.example",
        name="Ingrid Lehmann",
        shows=(
            "Hallo,\n\ndie Mülltonnen im Hof sind seit zwei Wochen nicht geleert worden, es "
            "riecht schon übel.\n\nMit freundlichen Grüßen\nIngrid Lehmann"
        ),
    ),
    "bounce_dsn_german.eml": Expected(
        subject="Unzustellbare Nachricht: [A-2026-004711] Heizung im Bad",
        sender="mailer-daemon@mout.kundenserver.example",
        name="Mail Delivery System",
        kind=Kind.BOUNCE,
        reference="A-2026-004711",
        bounced=("j.weiss@t-online.example",),
        shows=(
            "Dies ist eine automatisch erstellte Benachrichtigung über den Zustellstatus.\n\n"
            "Ihre Nachricht konnte an einen oder mehrere Empfänger nicht zugestellt werden.\n\n"
            "<j.weiss@t-online.example>: host mx00.t-online.example[194.25.134.8] said:\n"
            "    550 5.1.1 <j.weiss@t-online.example>: Recipient address rejected:\n"
            "    Mailbox unavailable (in reply to RCPT TO command)"
        ),
        hides=("Reporting-MTA", "Ihr Anliegen wurde aufgenommen"),
        attachments=(("nachricht-1.eml", "message/rfc822"),),
    ),
    "autoreply_gmx_abwesenheit.eml": Expected(
        subject="Aw: [A-2026-004714] Aufzug Haus 3",
        sender="b.schaefer@gmx.example",
        name="Brigitte Schäfer",
        kind=Kind.AUTO_REPLY,
        reference="A-2026-004714",
        shows=(
            "Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 20. März im Urlaub und "
            "lese meine E-Mails danach.\n\nBrigitte Schäfer"
        ),
    ),
    "autoreply_outlook_exchange.eml": Expected(
        subject="Automatische Antwort: [A-2026-004712] Wasserzähler Ablesung",
        sender="g.mueller@firma.example",
        name="Müller, Günter",
        kind=Kind.AUTO_REPLY,
        reference="A-2026-004712",
        shows=(
            "Ich bin bis zum 16.03.2026 nicht im Büro. In dringenden Fällen wenden Sie sich "
            "bitte an meine Kollegin, Frau Schulz."
        ),
    ),
}

REPLIES = sorted(n for n, e in EXPECTED.items() if e.reference and e.kind == Kind.MESSAGE)
AUTO_REPLIES = sorted(n for n, e in EXPECTED.items() if e.kind == Kind.AUTO_REPLY)


def raw(name: str) -> bytes:
    return (CLIENTS / name).read_bytes()


def test_every_fixture_has_its_expectations_and_its_line_in_the_readme():
    files = {path.name for path in CLIENTS.glob("*.eml")}
    assert files == set(EXPECTED)
    readme = (CLIENTS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)


def test_the_fixtures_are_what_they_claim_to_be():
    """The charset and encoding traps are really in the bytes."""
    outlook = raw("outlook_reply_iso8859-1_cp1252.eml")
    assert b'charset="iso-8859-1"' in outlook and b"89,50 =80" in outlook  # € of Windows-1252
    assert b"charset=ISO-8859-15" in raw("tonline_reply_iso8859-15_qp.eml")
    assert b"0 =A4 =FCberweise" in raw("tonline_reply_iso8859-15_qp.eml")  # € of ISO-8859-15
    mailx = raw("mailx_us-ascii_8bit_latin1.eml")
    assert b"charset=us-ascii" in mailx and b"Subject: Z\xe4hlerstand" in mailx
    live = raw("windows-live-mail_utf8_latin1.eml")
    assert b'charset="utf-8"' in live and b"M\xfclltonnen" in live
    assert b"\r\n" in outlook and b"\r\n" not in raw("thunderbird_reply_utf8_flowed.eml")


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=lambda n: n.removesuffix(".eml"))
def test_it_reads_each_client_right(name):
    expected = EXPECTED[name]
    parsed = parse(raw(name))
    shown = reply_text(parsed.text)
    assert parsed.subject == expected.subject
    assert (parsed.sender, parsed.sender_name) == (expected.sender, expected.name)
    assert parsed.kind == expected.kind
    assert reference_in(parsed.subject) == expected.reference
    assert is_forward(parsed.subject) == expected.forward
    assert shown == expected.shows
    for quoted in expected.hides:
        assert quoted not in shown
    for kept in expected.keeps:
        assert kept in parsed.text
    assert [(a.filename, a.content_type) for a in parsed.attachments] == list(expected.attachments)
    assert parsed.bounced == expected.bounced
    assert parsed.message_id and parsed.date is not None
    # Nothing undecodable anywhere: no replacement character, no stray "Ã¤".
    for value in (parsed.subject, parsed.sender_name, parsed.text):
        assert "\ufffd" not in value and "Ã" not in value


def test_the_photo_is_the_jpeg_that_was_sent():
    (photo,) = parse(raw("thunderbird_attachment_rfc2231.eml")).attachments
    assert photo.data.startswith(b"\xff\xd8\xff") and photo.data.endswith(b"\xff\xd9")


def test_the_html_alternative_is_kept_sanitised_beside_the_text():
    parsed = parse(raw("outlook_reply_iso8859-1_cp1252.eml"))
    assert "Thermostat" in parsed.html and "„5“" in parsed.html and "89,50 €" in parsed.html
    assert "<style" not in parsed.html and "MsoNormal" not in parsed.html


# format=flowed and HTML as text -----------------------------------------------------------


def test_unflow_joins_soft_breaks_and_nothing_else():
    text = "Ein langer \nSatz.\n\n> zitiert \n> weiter\n>> tiefer \n> nicht verbunden\n-- \nSig"
    assert unflow(text) == (
        "Ein langer Satz.\n\n> zitiert weiter\n>> tiefer \n> nicht verbunden\n-- \nSig"
    )


def test_unflow_removes_space_stuffing_and_delsp_spaces():
    assert unflow(" From here\n >quoted-looking") == "From here\n>quoted-looking"
    assert unflow("Wasser-\nschaden", delsp=True) == "Wasser-\nschaden"
    assert unflow("Wasserscha \nden", delsp=True) == "Wasserschaden"


def test_web_mailers_html_keeps_its_paragraphs_and_is_not_indented():
    html = "<div><div>Guten Tag,</div><div>&nbsp;</div><div>Zeile eins<br>Zeile zwei</div></div>"
    assert html_to_text(html).strip() == "Guten Tag,\n\nZeile eins\nZeile zwei"


# Through the intake ----------------------------------------------------------------------


def first_mail(sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "service@wg-beispiel.example"
    message["Subject"] = "Anliegen"
    message["Message-ID"] = f"<first.{sender}>"
    message.set_content("Guten Tag,\n\nbitte melden Sie sich.\n")
    return message.as_bytes()


def request_of(user, reference: str) -> Ticket:
    """An open request of `user` with the reference the fixture answers,
    waiting for them (the handler asked)."""
    email = mail_ingest(raw=first_mail(user.email), mailbox="service")
    Ticket.objects.filter(reference=email.ticket_reference).update(
        reference=reference, status=Status.WAITING
    )
    return Ticket.objects.get(reference=reference)


def member_writing_from(cast, address: str):
    """alice, with the fixture's sender as her address on file."""
    cast.alice.email = address
    cast.alice.save(update_fields=["email"])
    cast.alice.member.email = address
    cast.alice.member.save(update_fields=["email"])
    return cast.alice


@pytest.mark.parametrize("name", REPLIES, ids=lambda n: n.removesuffix(".eml"))
def test_a_members_reply_joins_her_request_showing_only_the_new_text(cast, name):
    expected = EXPECTED[name]
    ticket = request_of(member_writing_from(cast, expected.sender), expected.reference)
    email = mail_ingest(raw=raw(name), mailbox="service")
    assert email.status == Outcome.REPLY and email.ticket_reference == expected.reference
    reply = ticket.events.get(kind=TicketEvent.Kind.MEMBER_REPLY)
    assert reply.body == expected.shows and reply.email == email
    assert bytes(email.raw) == raw(name)  # the whole message, quote and all, is kept
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert Ticket.objects.count() == 1


def test_the_outlook_reply_joins_alices_request_with_euro_and_quotes_right(cast):
    ticket = request_of(cast.alice, "A-2026-004711")
    email = mail_ingest(raw=raw("outlook_reply_iso8859-1_cp1252.eml"), mailbox="service")
    assert email.status == Outcome.REPLY and email.sender == "alice@example.org"
    body = ticket.events.get(kind=TicketEvent.Kind.MEMBER_REPLY).body
    assert "„5“" in body and "– 89,50 € –" in body
    assert "Ursprüngliche Nachricht" not in body and "seit wann" not in body


def test_the_bounce_marks_the_address_and_makes_nothing(cast):
    ticket = request_of(cast.alice, "A-2026-004711")  # its subject names this request
    sent = OutboundEmail.objects.count()
    email = mail_ingest(raw=raw("bounce_dsn_german.eml"), mailbox="service")
    assert email.status == Outcome.BOUNCE and email.ticket_reference == ""
    assert BouncingAddress.objects.get().address == "j.weiss@t-online.example"
    assert Ticket.objects.count() == 1
    assert not ticket.events.filter(kind=TicketEvent.Kind.MEMBER_REPLY).exists()
    assert OutboundEmail.objects.count() == sent


@pytest.mark.parametrize("name", AUTO_REPLIES, ids=lambda n: n.removesuffix(".eml"))
def test_an_automatic_reply_joins_nothing_and_answers_nothing(cast, name):
    expected = EXPECTED[name]
    # The sender's own open request, named in the subject: it must not join.
    ticket = request_of(member_writing_from(cast, expected.sender), expected.reference)
    sent = OutboundEmail.objects.count()
    email = mail_ingest(raw=raw(name), mailbox="service")
    assert email.status == Outcome.AUTO_REPLY
    assert not ticket.events.filter(kind=TicketEvent.Kind.MEMBER_REPLY).exists()
    assert Ticket.objects.count() == 1 and OutboundEmail.objects.count() == sent
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING


def test_the_photo_with_an_rfc2231_name_lands_on_the_new_request(cast):
    email = mail_ingest(raw=raw("thunderbird_attachment_rfc2231.eml"), mailbox="service")
    assert email.status == Outcome.TICKET
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member == cast.alice.member
    assert [a.original_name for a in ticket.attachments.all()] == ["Schaden_Küche.jpg"]
    assert "Wasserschaden in der Küche" in ticket.answers_text()
    assert not ticket.events.filter(kind=TicketEvent.Kind.NOTE).exists()  # nothing refused


def test_a_forward_opens_a_request_with_the_forwarded_message_in_it(cast):
    email = mail_ingest(raw=raw("outlook_forward_utf8_qp.eml"), mailbox="service")
    assert email.status == Outcome.TICKET
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member == cast.alice.member
    answers = ticket.answers_text()
    assert "meine Nachbarin aus dem 3. OG" in answers
    assert "tropft seit heute Nacht Wasser aus der Decke" in answers


def test_a_stranger_with_latin1_headers_is_named_right_in_triage(cast):
    email = mail_ingest(raw=raw("mailx_us-ascii_8bit_latin1.eml"), mailbox="service")
    assert email.subject == "Zählerstand Strom Keller"
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert ticket.member is None and ticket.contact_name == "Karl-Heinz Bäcker"
    assert "Zählerstand Strom Keller" in ticket.answers_text()


def test_the_winmail_dat_is_refused_and_listed_not_lost(cast):
    member_writing_from(cast, "g.mueller@firma.example")
    ticket = request_of(cast.alice, "A-2026-004712")
    email = mail_ingest(raw=raw("outlook_winmail_cp1252_base64.eml"), mailbox="service")
    assert email.status == Outcome.REPLY
    assert email.notes[-1]["kind"] == "refused"
    assert [f["name"] for f in email.notes[-1]["files"]] == ["winmail.dat"]
    note = ticket.events.get(kind=TicketEvent.Kind.NOTE)
    assert not note.public and "winmail.dat" in note.body


def test_a_signed_message_keeps_its_signature_without_a_refusal_note(cast):
    name = "thunderbird_smime_signed.eml"
    email = mail_ingest(raw=raw(name), mailbox="service")
    assert email.status == Outcome.TICKET
    ticket = Ticket.objects.get(reference=email.ticket_reference)
    assert "Stellplatz" in ticket.answers_text()
    assert not ticket.events.filter(kind=TicketEvent.Kind.NOTE).exists()
    assert not [note for note in email.notes if note["kind"] == "refused"]
    assert b"smime.p7s" in bytes(email.raw)  # kept with the message
