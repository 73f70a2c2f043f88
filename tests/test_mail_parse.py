"""Reading incoming e-mail (issue 12, mail.parse): the shared corpus of real
client replies, German clients' quote styles, every charset a German sender
uses (and mislabelled ones), encoded headers and file names, HTML-only
mail, attachments, bounces, automatic replies — and malformed bytes that
must never crash the intake."""

import contextlib
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.parse import (
    Kind,
    UnreadableMessage,
    decode_bytes,
    is_forward,
    parse,
    reference_in,
    reply_text,
    subject_plain,
)

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "mail"
REPLIES = sorted((CORPUS / "client-replies").glob("*.eml"))


def lines_trimmed(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_the_corpus_is_there():
    assert len(REPLIES) >= 12, CORPUS


@pytest.mark.parametrize("path", REPLIES, ids=lambda p: p.stem)
def test_client_replies_yield_only_the_new_text(path):
    expected_file = path.with_name(f"{path.stem}_reply_text")
    expected = expected_file.read_text() if expected_file.exists() else "Hello"
    parsed = parse(path.read_bytes())
    assert parsed.kind == Kind.MESSAGE
    assert "@" in parsed.sender
    # Trailing spaces (Sparrow's "-- ") are not shown.
    assert reply_text(parsed.text) == lines_trimmed(expected)


# German clients ------------------------------------------------------------------------

QUOTED = {
    "outlook": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "-----Ursprüngliche Nachricht-----\nVon: Wohnungsgenossenschaft <service@example.org>\n"
        "Gesendet: Montag, 12. März 2026 09:14\nAn: Anna Beispiel <anna@example.org>\n"
        "Betreff: [A-2026-000017] Ihr Anliegen\n\nSehr geehrte Frau Beispiel, …\n"
    ),
    "outlook_without_separator": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "________________________________\n"
        "Von: Wohnungsgenossenschaft <service@example.org>\n"
        "Gesendet: Montag, 12. März 2026 09:14\nAn: Anna Beispiel\n"
        "Betreff: AW: [A-2026-000017] Ihr Anliegen\n\nalter Text\n"
    ),
    "outlook_block_only": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "Von: Wohnungsgenossenschaft [mailto:service@example.org]\n"
        "Gesendet: Montag, 12. März 2026 09:14\nAn: Anna Beispiel\n"
        "Betreff: AW: [A-2026-000017] Ihr Anliegen\n\nalter Text\n"
    ),
    "thunderbird": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "Am 12.03.26 um 09:14 schrieb Wohnungsgenossenschaft:\n> Sehr geehrte Frau Beispiel,\n"
        ">\n> alter Text\n"
    ),
    "apple_mail_wrapped": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "Am 12.03.2026 um 09:14 schrieb Wohnungsgenossenschaft\n<service@example.org>:\n\n"
        "> Sehr geehrte Frau Beispiel,\n> alter Text\n"
    ),
    "gmx": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "Gesendet: Montag, 12. März 2026 um 09:14 Uhr\n"
        'Von: "Wohnungsgenossenschaft" <service@example.org>\nAn: anna@gmx.de\n'
        "Betreff: [A-2026-000017] Ihr Anliegen\nSehr geehrte Frau Beispiel, alter Text\n"
    ),
    "t_online": (
        "Vielen Dank, das passt.\n\nMit freundlichen Grüßen\nAnna Beispiel\n\n"
        "-----Original-Nachricht-----\nBetreff: [A-2026-000017] Ihr Anliegen\n"
        "Datum: 2026-03-12T09:14:00+0100\nVon: service@example.org\n\nalter Text\n"
    ),
    "bottom_posting": (
        "Am Montag, 12. März 2026, 09:14:00 CET schrieb Wohnungsgenossenschaft:\n"
        "> Wann passt es Ihnen?\n\nVielen Dank, das passt.\n\n"
        "> Bitte nennen Sie eine Telefonnummer.\n\nMit freundlichen Grüßen\nAnna Beispiel\n"
    ),
}


@pytest.mark.parametrize("client", sorted(QUOTED))
def test_german_quote_styles_are_stripped(client):
    text = reply_text(QUOTED[client])
    assert text.startswith("Vielen Dank, das passt.")
    assert text.endswith("Mit freundlichen Grüßen\nAnna Beispiel")
    assert "alter Text" not in text and "Sehr geehrte" not in text
    assert "schrieb" not in text and "Von:" not in text and "Gesendet" not in text


def test_a_colon_at_the_end_of_the_members_own_text_stays():
    text = "Folgendes ist kaputt:\n\n- Heizung\n- Fenster\n"
    assert reply_text(text) == "Folgendes ist kaputt:\n\n- Heizung\n- Fenster"


def test_text_that_is_all_quote_is_kept_whole():
    assert reply_text("> nur Zitat\n> noch mehr\n") == "> nur Zitat\n> noch mehr"


# Charsets and encodings ------------------------------------------------------------------

TEXT = "Die Heizung im Schlafzimmer fällt aus – „dringend“, Kosten 50 €. Grüße, Jürgen Weiß"


def message(body: bytes | str, *, charset: str, cte: str = "8bit", **headers) -> bytes:
    raw = (
        "From: =?utf-8?q?J=C3=BCrgen_Wei=C3=9F?= <juergen@example.org>\r\n"
        "To: service@example.org\r\n"
        f"Subject: {headers.get('subject', 'Heizung')}\r\n"
        "Message-ID: <abc.123@example.org>\r\n"
        "Date: Mon, 12 Mar 2026 09:14:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: text/plain; charset="{charset}"\r\n'
        f"Content-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode()
    return raw + (body if isinstance(body, bytes) else body.encode(charset))


@pytest.mark.parametrize(
    ("charset", "text"),
    [
        ("utf-8", TEXT),
        ("windows-1252", TEXT),
        ("iso-8859-15", TEXT.replace("„", '"').replace("“", '"').replace("–", "-")),
        (
            "iso-8859-1",
            TEXT.replace("€", "EUR").replace("„", '"').replace("“", '"').replace("–", "-"),
        ),
    ],
)
def test_each_charset_a_german_sender_uses(charset, text):
    parsed = parse(message(text, charset=charset))
    assert parsed.text.strip() == text.replace("–", "–")
    assert parsed.sender == "juergen@example.org" and parsed.sender_name == "Jürgen Weiß"
    assert parsed.message_id == "abc.123@example.org"


def test_iso_8859_1_is_read_as_windows_1252_as_outlook_writes_it():
    parsed = parse(message(TEXT.encode("cp1252"), charset="iso-8859-1"))
    assert "„dringend“" in parsed.text and "50 €" in parsed.text


@pytest.mark.parametrize(
    ("declared", "data"),
    [
        ("iso-8859-1", TEXT.encode("utf-8")),  # UTF-8 labelled Latin-1
        ("us-ascii", TEXT.encode("utf-8")),  # UTF-8 labelled ASCII
        ("utf-8", TEXT.encode("cp1252")),  # Windows-1252 labelled UTF-8
        ("x-unknown-charset", TEXT.encode("cp1252")),
    ],
)
def test_mislabelled_charsets_still_read_right(declared, data):
    assert TEXT in parse(message(data, charset=declared)).text


@pytest.mark.parametrize("cte", ["quoted-printable", "base64"])
def test_transfer_encodings(cte):
    built = EmailMessage()
    built["From"] = "anna@example.org"
    built["Subject"] = "Heizung"
    built.set_content(TEXT, charset="utf-8", cte=cte)
    raw = built.as_bytes()
    assert cte.encode() in raw
    assert parse(raw).text.strip() == TEXT


def test_encoded_subject_and_file_names():
    raw = (
        b"From: anna@example.org\r\nSubject: =?iso-8859-1?q?AW=3A_Heizung_f=E4llt_aus?= "
        b"=?utf-8?b?W0EtMjAyNi0wMDAwMTdd?=\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nSiehe Anhang.\r\n--b\r\n"
        b"Content-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''Schadens%C3%BCbersicht%20M%C3%A4rz.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b\r\n"
        b'Content-Type: image/jpeg; name="=?utf-8?q?K=C3=BCche.jpg?="\r\n'
        b'Content-Disposition: attachment; filename="=?utf-8?q?K=C3=BCche.jpg?="\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b--\r\n"
    )
    parsed = parse(raw)
    assert parsed.subject == "AW: Heizung fällt aus[A-2026-000017]"
    assert reference_in(parsed.subject) == "A-2026-000017"
    assert [a.filename for a in parsed.attachments] == ["Schadensübersicht März.pdf", "Küche.jpg"]
    assert parsed.attachments[0].data == b"%PDF-1.4\n"
    assert parsed.text.strip() == "Siehe Anhang."


def test_text_part_is_preferred_and_the_html_kept_sanitised():
    built = EmailMessage()
    built["From"] = "anna@example.org"
    built.set_content("Nur Text")
    built.add_alternative("<p>Als <b>HTML</b></p><script>alert(1)</script>", subtype="html")
    parsed = parse(built.as_bytes())
    assert parsed.text.strip() == "Nur Text"
    assert "<b>HTML</b>" in parsed.html and "script" not in parsed.html
    assert parsed.attachments == ()


def test_html_only_mail_becomes_readable_text_without_scripts():
    built = EmailMessage()
    built["From"] = "anna@web.de"
    built.set_content(
        "<html><head><style>p{color:red}</style><script>steal()</script></head><body>"
        "<p>Guten Tag,</p><p>im Bad tropft es:</p><ul><li>Wasserhahn</li><li>Dusche</li></ul>"
        '<p><a href="https://example.org/foto">Foto</a> &amp; Grüße</p>'
        '<img src="x" onerror="steal()"></body></html>',
        subtype="html",
    )
    parsed = parse(built.as_bytes())
    assert "Guten Tag," in parsed.text and "im Bad tropft es:" in parsed.text
    assert "Wasserhahn" in parsed.text and "Dusche" in parsed.text and "& Grüße" in parsed.text
    assert "steal" not in parsed.text and "color" not in parsed.text
    assert "onerror" not in parsed.html and "<script" not in parsed.html


def test_inline_images_attachments_winmail_signatures_and_forwarded_mail_are_kept():
    built = EmailMessage()
    built["From"] = "anna@example.org"
    built["Subject"] = "WG: Wasserschaden"
    built.set_content("Siehe unten.")
    built.add_related(b"\x89PNG\r\n", maintype="image", subtype="png", cid="<bild1>")
    built.add_attachment(b"\x78\x9f\x3e\x22", maintype="application", subtype="ms-tnef",
                         filename="winmail.dat")  # fmt: skip
    forwarded = EmailMessage()
    forwarded["From"] = "nachbar@example.org"
    forwarded["Subject"] = "Wasser in der Decke"
    forwarded.set_content("Bei mir kommt Wasser durch die Decke.")
    built.add_attachment(forwarded)
    parsed = parse(built.as_bytes())
    names = {a.filename: a for a in parsed.attachments}
    assert set(names) == {"anhang-1.png", "winmail.dat", "nachricht-3.eml"}
    assert names["anhang-1.png"].inline
    assert b"Wasser durch die Decke" in names["nachricht-3.eml"].data
    assert is_forward(parsed.subject) and subject_plain(parsed.subject) == "Wasserschaden"


def test_signed_mail_keeps_its_text_and_its_signature():
    raw = (
        "From: anna@example.org\r\nSubject: Zaehlerstand\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        'micalg=sha-256; boundary="s"\r\n\r\n--s\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\nZählerstand 4711.\r\n--s\r\n"
        "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
        "Content-Disposition: attachment; filename=smime.p7s\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n--s--\r\n"
    ).encode()
    parsed = parse(raw)
    assert parsed.text.strip() == "Zählerstand 4711."
    assert [a.filename for a in parsed.attachments] == ["smime.p7s"]


# What is not a member's message --------------------------------------------------------

DSN = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: service@example.org\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
    b"--r\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver.\r\n"
    b"--r\r\nContent-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
    b"Final-Recipient: rfc822; Alice.Alt@Example.org\r\nAction: failed\r\n"
    b"Status: 5.1.1\r\n\r\n"
    b"Final-Recipient: rfc822; bob@example.org\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n"
    b"--r\r\nContent-Type: message/rfc822\r\n\r\nFrom: service@example.org\r\n"
    b"Subject: [A-2026-000017] Ihr Anliegen\r\n\r\nText\r\n--r--\r\n"
)


def test_a_bounce_names_the_addresses_that_failed():
    parsed = parse(DSN)
    assert parsed.kind == Kind.BOUNCE
    assert parsed.bounced == ("alice.alt@example.org",)


def test_a_daemon_message_without_a_report_is_a_bounce_too():
    raw = (
        b"From: MAILER-DAEMON@mx.example.net\r\nReturn-Path: <>\r\nSubject: failure notice\r\n\r\n"
        b"Sorry, we were unable to deliver your message.\r\n"
    )
    assert parse(raw).kind == Kind.BOUNCE


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "X-Autoreply: yes",
        "X-Autorespond: Urlaub",
        "Precedence: bulk",
        "Precedence: auto_reply",
        "Precedence: list",
        "Subject: Abwesenheitsnotiz: Ihr Anliegen",
        "Subject: Automatische Antwort: [A-2026-000017] Ihr Anliegen",
        "Subject: Out of Office: Ihr Anliegen",
        "Subject: Automatic reply: Ihr Anliegen",
    ],
)
def test_automatic_replies_are_recognised(header):
    subject = "" if header.startswith("Subject") else "Subject: AW: Ihr Anliegen\r\n"
    raw = f"From: anna@example.org\r\n{subject}{header}\r\n\r\nIch bin bis 20.3. im Urlaub.\r\n"
    assert parse(raw.encode()).kind == Kind.AUTO_REPLY


def test_a_person_writing_auto_submitted_no_is_a_person():
    raw = b"From: anna@example.org\r\nAuto-Submitted: no\r\nSubject: Urlaub\r\n\r\nHallo\r\n"
    assert parse(raw).kind == Kind.MESSAGE


def test_spam_flags():
    raw = b"From: x@spam.example\r\nX-Spam-Flag: YES\r\nSubject: Gewinn\r\n\r\nHallo\r\n"
    assert parse(raw).spam
    assert not parse(raw.replace(b"YES", b"NO")).spam


# Threading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "reference"),
    [
        ("[A-2026-004711] Ihr Anliegen", "A-2026-004711"),
        ("AW: [A-2026-004711] Ihr Anliegen", "A-2026-004711"),
        ("WG: AW: Re: [ A-2026-004711 ] Ihr Anliegen", "A-2026-004711"),
        ("Fwd: Anliegen A-2026-004711", "A-2026-004711"),
        ("Heizung kaputt", None),
        ("A-2026-04711 zu kurz", None),
    ],
)
def test_the_reference_in_the_subject(subject, reference):
    assert reference_in(subject) == reference


def test_reply_ids_and_date():
    raw = (
        b"From: anna@example.org\r\nMessage-ID: <m1@example.org>\r\n"
        b"In-Reply-To: <outbox-17.20260312@portal.example>\r\n"
        b"References: <a@x> <outbox-17.20260312@portal.example>\r\n"
        b"Date: Thu, 12 Mar 2026 09:14:00 +0100\r\n\r\nText\r\n"
    )
    parsed = parse(raw)
    assert parsed.in_reply_to == ("outbox-17.20260312@portal.example",)
    assert parsed.references == ("a@x", "outbox-17.20260312@portal.example")
    assert parsed.date.isoformat() == "2026-03-12T09:14:00+01:00"


def test_the_same_bytes_have_the_same_hash_and_other_bytes_another():
    raw = message(TEXT, charset="utf-8")
    assert parse(raw).content_hash == parse(raw).content_hash
    assert parse(raw).content_hash != parse(raw + b"!").content_hash


# Malformed input never crashes ---------------------------------------------------------------


def test_bytes_that_are_no_message_are_refused_clearly():
    for raw in (b"", b"\x00\x01\x02", b"just some words\r\n"):
        with pytest.raises(UnreadableMessage):
            parse(raw)


def test_decode_bytes_never_fails():
    assert decode_bytes(b"\x81\x8d\x8f\x90\x9d", "utf-8")  # undefined in cp1252 too


HEADER_NAMES = st.sampled_from(
    ["From", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Content-Type",
     "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "X-Spam-Flag"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    headers=st.lists(st.tuples(HEADER_NAMES, st.binary(max_size=80)), min_size=1, max_size=8),
    body=st.binary(max_size=400),
)
def test_malformed_messages_never_crash_the_parser(headers, body):
    raw = b"".join(name.encode() + b": " + value.replace(b"\n", b" ") + b"\r\n"
                   for name, value in headers) + b"\r\n" + body  # fmt: skip
    try:
        parsed = parse(raw)
    except UnreadableMessage:
        return
    assert isinstance(parsed.text, str) and parsed.kind in {
        Kind.MESSAGE, Kind.AUTO_REPLY, Kind.BOUNCE,
    }  # fmt: skip
    reply_text(parsed.text)
    reference_in(parsed.subject)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_never_crash_the_parser(raw):
    with contextlib.suppress(UnreadableMessage):
        parse(b"From: a@b.example\r\n" + raw)
