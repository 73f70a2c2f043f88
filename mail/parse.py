"""Reading one incoming e-mail (issue 12): pure functions, no database.

`parse(raw)` turns the bytes of an RFC 822 message into what the intake
needs: who sent it, the ids it answers, a readable text, the attachments,
and what kind of message it is (a person's message, an automatic reply, a
bounce). It never raises for a message it cannot read well: text it cannot
decode is decoded with replacement characters, a header it cannot parse is
left empty, and `Parsed.defects` says what was odd. Only bytes that are not
a message at all (`UnreadableMessage`) go to quarantine.

Built on the standard `email` package (RFC 2047/2231 headers and file
names, quoted-printable/base64). HTML-only mail is sanitised with nh3 and
turned into text with inscriptis (tables and lists stay readable).
German senders' charsets are decoded leniently: a part that says
ISO-8859-1 is read as Windows-1252 (what those programs really write: „“ –
€), a part whose bytes are valid UTF-8 is read as UTF-8 whatever it claims
(the most common mislabel), and anything else falls back to Windows-1252.
Raw 8-bit Latin-1 in the header (mailx, home-made scripts) is read the
same way, and format=flowed text (Thunderbird) is unwrapped (RFC 3676).

`reply_text(text)` strips the quoted earlier message and the client's quote
header ("Am … schrieb …:", "-----Ursprüngliche Nachricht-----", Outlook's
"Von:/Gesendet:/An:/Betreff:" block, "On … wrote:", "From: … Sent: …") for
display; the full text is always kept."""

import datetime
import email
import email.policy
import functools
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig


class UnreadableMessage(ValueError):
    """The bytes are not an e-mail message (no header at all)."""


class Kind:
    MESSAGE = "message"  # written by a person: becomes or joins a request
    AUTO_REPLY = "auto_reply"  # out of office and other automatic answers
    BOUNCE = "bounce"  # a delivery status notification


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False  # shown in the message (an image with a Content-ID)


@dataclass(frozen=True)
class Parsed:
    message_id: str  # without angle brackets; "" when the message has none
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    sender: str  # the address, lower case; "" when there is none
    sender_name: str
    subject: str
    date: datetime.datetime | None
    text: str  # the whole readable text (the text part, or the HTML as text)
    html: str  # the sanitised HTML part, "" without one
    attachments: tuple[Attachment, ...]
    kind: str
    bounced: tuple[str, ...]  # for a bounce: the addresses that failed
    spam: bool
    content_hash: str  # sha256 of the raw bytes: identity without a Message-ID
    defects: tuple[str, ...] = field(default_factory=tuple)


# --- decoding ----------------------------------------------------------------------

_LATIN = {"iso-8859-1", "latin-1", "latin1", "iso8859-1", "us-ascii", "ascii", "iso-8859-15"}


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Text of a part: UTF-8 when the bytes are valid UTF-8 (whatever the
    label says), else the declared charset (ISO-8859-1 read as
    Windows-1252), else Windows-1252, never an error."""
    declared = (declared or "").strip().strip('"').lower()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return text
    if declared in _LATIN - {"iso-8859-15"}:
        declared = "cp1252"
    for charset in (declared, "cp1252"):
        if not charset:
            continue
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")  # every byte is a character: never fails


def unflow(text: str, *, delsp: bool = False) -> str:
    """Text sent as format=flowed (RFC 3676) as its writer wrote it: a line
    ending in a space goes on in the next line of the same quote depth
    (with DelSp=yes that space was added by the wrapping and goes too), a
    space added before a line ("space-stuffing") is removed, and the
    signature separator "-- " stays a line of its own."""
    lines: list[tuple[int, str]] = []
    joining = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:].removeprefix(" ")
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if joining and lines[-1][0] == depth:
            lines[-1] = (depth, lines[-1][1] + content)
        else:
            lines.append((depth, content))
        joining = flowed
    return "\n".join(
        ">" * depth + (" " if depth and content else "") + content for depth, content in lines
    )


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:  # a multipart, or nothing at all
        return ""
    text = decode_bytes(payload, part.get_content_charset())
    # Thunderbird and Windows Live Mail send format=flowed, wrapped at 72
    # characters; read as it is, every paragraph would break mid-sentence
    # (and a phrase searched for would not be found across the break).
    if part.get_content_type() == "text/plain" and _param(part, "format") == "flowed":
        text = unflow(text.replace("\r\n", "\n"), delsp=_param(part, "delsp") == "yes")
    return text


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    if isinstance(value, tuple):  # an RFC 2231 value: (charset, language, text)
        value = value[2]
    return str(value or "").strip().lower()


# The browser's defaults (inscriptis' "strict" profile), not its default
# "relaxed" one: that indents every <div> by two spaces per level, and web
# mailers (GMX, Web.de, T-Online) nest the whole message in <div>s, so each
# line after the first was shown indented.
_HTML_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=True)
# A block holding only a no-break space is how web mailers write an empty
# line between paragraphs ("<div>&nbsp;</div>"); a browser shows it as one,
# inscriptis drops it (and with it the paragraph break).
_EMPTY_BLOCK = re.compile(r"<(div|p)(\s[^>]*)?>(\s|&nbsp;|&#160;|\xa0)*</\1>", re.IGNORECASE)


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail: sanitised first (scripts, styles and
    event handlers gone), then laid out as text (lists, tables, links)."""
    clean = _EMPTY_BLOCK.sub(r"<\1><br></\1>", nh3.clean(html))
    text = get_text(clean, _HTML_CONFIG)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.splitlines()))


def _header(message: Message, name: str, defects: list[str]) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of
        defects.append(f"header {name}")
        return ""
    if value is None:
        return ""
    return " ".join(str(value).split())


def _ids(value: str) -> tuple[str, ...]:
    return tuple(found.strip() for found in re.findall(r"<([^<>\s]+)>", value))


# --- reading headers once ------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


@functools.lru_cache(maxsize=512)
def _header_object(name: str, value: str):
    return email.policy.default.header_factory(name, value)


class _Policy(EmailPolicy):
    """email.policy.default, but a header is parsed once. The default
    parses a header again on every read — and builds a new header class
    each time — while one message's Content-Type is read a dozen times
    (get_body, get_content_type, get_param, walking the parts): that was
    most of the time parse() took. A parsed header depends on its name
    and value only and is never changed (a new value makes a new object),
    so the same one serves every read, in every message (the Content-Type
    and MIME-Version lines most messages share)."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):  # already a header object (set by a program)
            return value
        return _header_object(name, "".join(_LINE_BREAKS.split(value)))


_POLICY = _Policy()


# --- what kind of message ------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(abwesenheitsnotiz|automatische antwort|automatic reply|auto[- ]?reply|"
    r"out of (the )?office|abwesend|autoreply|réponse automatique)\b",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


def _automatic(message: Message, subject: str, defects: list[str]) -> bool:
    auto = _header(message, "Auto-Submitted", defects).lower()
    if auto and auto != "no":
        return True
    if _header(message, "X-Autoreply", defects) or _header(message, "X-Autorespond", defects):
        return True
    if _header(message, "Precedence", defects).lower() in {"bulk", "auto_reply", "list", "junk"}:
        return True
    if _calendar_reply(message):
        return True
    return bool(_AUTO_SUBJECT.match(subject))


# A calendar program's answer to an appointment invite (RFC 6047: accepted,
# declined, a counter-proposal). Invites go out with RSVP=FALSE, but some
# programs answer anyway (Outlook when the entry is deleted): such an answer
# is no request of the member's and gets none.
_CALENDAR_ANSWERS = {"reply", "counter", "declinecounter", "refresh"}


def _calendar_reply(message: Message) -> bool:
    try:
        return any(
            part.get_content_type() == "text/calendar"
            and str(part.get_param("method") or "").lower() in _CALENDAR_ANSWERS
            for part in message.walk()
        )
    except Exception:
        return False  # an odd structure: the other checks decide


def _bounced(message: Message) -> tuple[bool, tuple[str, ...]]:
    """A delivery status notification (RFC 3464), and whom it failed for."""
    if message.get_content_type() != "multipart/report":
        return False, ()
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return False, ()
    failed = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The status fields are header blocks; the email package gives them
        # as sub-messages (or as text when it could not).
        blocks = part.get_payload()
        if isinstance(blocks, str):
            blocks = [email.message_from_string(chunk) for chunk in blocks.split("\n\n")]
        for block in blocks or []:
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            if action == "failed" and ";" in recipient:
                failed.append(recipient.split(";", 1)[1].strip().strip("<>").lower())
    return True, tuple(dict.fromkeys(failed))


def _spam(message: Message, defects: list[str]) -> bool:
    flag = _header(message, "X-Spam-Flag", defects).lower()
    status = _header(message, "X-Spam-Status", defects).lower()
    return flag.startswith("yes") or status.startswith("yes")


# --- the parts -----------------------------------------------------------------------

_SKIP_TYPES = {"application/pgp-signature"}


def _filename(part: Message, number: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        # A path in a file name ("C:\\Users\\…\\Rechnung.pdf") keeps its last part.
        name = re.split(r"[\\/]", name)[-1].strip()
    if not name:
        if part.get_content_type() == "message/rfc822":
            return f"nachricht-{number}.eml"
        subtype = part.get_content_subtype() or "bin"
        name = f"anhang-{number}.{re.sub(r'[^a-z0-9]', '', subtype.lower())[:8] or 'bin'}"
    return name


def _leaves(part: Message, depth: int = 0):
    """The parts that are not containers; a forwarded message
    (message/rfc822) is one part, not opened. Nesting is bounded: a
    hostile message cannot recurse without end."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    if depth > 20:
        return
    for inner in part.get_payload() or []:
        if isinstance(inner, Message):
            yield from _leaves(inner, depth + 1)


def _parts(message: Message) -> tuple[str, str, list[Attachment]]:
    """The text, the HTML and the attachments of a message."""
    body = None
    if isinstance(message, EmailMessage):
        try:
            body = message.get_body(preferencelist=("plain", "html"))
        except Exception:
            body = None
    if body is None and not message.is_multipart():
        body = message
    text = html = ""
    if body is not None:
        if body.get_content_type() == "text/html":
            html = nh3.clean(_part_text(body))
            text = html_to_text(html)
        else:
            text = _part_text(body)
            # The HTML alternative of the same text, for staff who want it.
            for part in _leaves(message):
                if (
                    part.get_content_type() == "text/html"
                    and part is not body
                    and part.get_content_disposition() != "attachment"
                ):
                    html = nh3.clean(_part_text(part))
                    break
    attachments = []
    alternatives = {"text/plain", "text/html"}
    for part in _leaves(message):
        if part is body or part.get_content_type() in _SKIP_TYPES:
            continue
        if part.get_content_type() == "message/delivery-status":
            continue
        disposition = part.get_content_disposition()
        kind = part.get_content_type()
        if kind in alternatives and disposition != "attachment" and not part.get_filename():
            continue  # the other form of the body, not a file
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            data = inner.as_bytes() if isinstance(inner, Message) else b""
        else:
            data = part.get_payload(decode=True) or b""
        attachments.append(
            Attachment(
                filename=_filename(part, len(attachments) + 1),
                content_type=kind,
                data=data,
                inline=disposition == "inline" or bool(part.get("Content-ID")),
            )
        )
    return text.replace("\r\n", "\n"), html, attachments


# --- the whole message ---------------------------------------------------------------


def _header_as_utf8(raw: bytes) -> bytes:
    """The message with 8-bit header bytes that are not UTF-8 re-encoded as
    UTF-8. Old mailx setups and home-made scripts write Latin-1 umlauts
    into Subject and From without RFC 2047; the email package reads raw
    UTF-8 there but turns every other 8-bit byte into U+FFFD
    ("Z\ufffdhlerstand"). Only the top header: a part's bytes are decoded
    by their own charset."""
    end = re.search(rb"\r?\n\r?\n", raw)
    head = raw[: end.start()] if end else raw
    if head.isascii():
        return raw
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(head, "cp1252").encode("utf-8") + raw[len(head) :]
    return raw


def parse(raw: bytes) -> Parsed:
    """Everything the intake needs from one message (see the module docstring)."""
    if not raw or not re.match(rb"^[\x21-\x39\x3b-\x7e]+:", raw.lstrip()[:1000]):
        raise UnreadableMessage("no message header")
    message = email.message_from_bytes(_header_as_utf8(raw), policy=_POLICY)
    defects = [type(d).__name__ for d in message.defects]
    subject = _header(message, "Subject", defects)
    sender_name, sender = "", ""
    try:
        found = getaddresses([str(message.get("From", ""))])
    except Exception:
        found, defects = [], [*defects, "header From"]
    if found and "@" in found[0][1]:
        sender_name, sender = found[0][0].strip(), found[0][1].strip().lower()
    date = None
    try:
        value = message.get("Date")
        date = parsedate_to_datetime(str(value)) if value else None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=datetime.UTC)
    except Exception:
        defects.append("header Date")
    bounce, bounced = _bounced(message)
    if (
        not bounce
        and _DAEMON.match(sender)
        and _header(message, "Return-Path", defects)
        in (
            "<>",
            "",
        )
    ):
        bounce = True  # a bounce without a status report: nobody to link it to
    try:
        text, html, attachments = _parts(message)
    except Exception:
        # A structure the email package chokes on: the raw text, readable.
        defects.append("structure")
        text, html, attachments = decode_bytes(raw, None), "", []
    if bounce:
        kind = Kind.BOUNCE
    elif _automatic(message, subject, defects):
        kind = Kind.AUTO_REPLY
    else:
        kind = Kind.MESSAGE
    return Parsed(
        message_id=(_ids(_header(message, "Message-ID", defects)) or ("",))[0],
        in_reply_to=_ids(_header(message, "In-Reply-To", defects)),
        references=_ids(_header(message, "References", defects)),
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        date=date,
        text=text,
        html=html,
        attachments=tuple(attachments),
        kind=kind,
        bounced=bounced,
        spam=_spam(message, defects),
        content_hash=hashlib.sha256(raw).hexdigest(),
        defects=tuple(defects),
    )


# --- threading and display -------------------------------------------------------------

REFERENCE = re.compile(r"\[\s*(A-\d{4}-\d{6})\s*\]|\b(A-\d{4}-\d{6})\b")
_PREFIX = re.compile(r"^\s*((re|aw|wg|fw|fwd|antw|wtr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def reference_in(subject: str) -> str | None:
    """The request reference a subject names: "[A-2026-004711]" (also after
    "AW:", "WG:", "Re:", "Fwd:"), else a bare reference."""
    found = REFERENCE.search(subject or "")
    if found is None:
        return None
    return found.group(1) or found.group(2)


def subject_plain(subject: str) -> str:
    """The subject without reply and forward prefixes."""
    return _PREFIX.sub("", subject or "").strip()


def is_forward(subject: str) -> bool:
    return re.match(r"^\s*(wg|fw|fwd|wtr)\s*:", subject or "", re.IGNORECASE) is not None


_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(ursprüngliche nachricht|original-?nachricht|original message|"
    r"weitergeleitete nachricht|"
    r"forwarded message|message d'origine)\s*-{2,}|_{20,})\s*$",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*\*?(von|from|de)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_FIELD = re.compile(
    r"^\s*\*?(gesendet|sent|datum|date|an|to|cc|betreff|subject|envoyé|objet)\s*:", re.IGNORECASE
)
_QUOTE_HEAD_START = re.compile(
    r"^\s*(am|on|le|el|il|op|den|em|w dniu)\s|\d{1,4}[./-]\d{1,2}[./-]\d{2,4}", re.IGNORECASE
)


def _outlook_block(lines: list[str], index: int) -> bool:
    """A quoted message's header block starts here: "Von: … / Gesendet: … /
    An: … / Betreff: …" (Outlook), or GMX's and Web.de's "Gesendet: … /
    Von: … / An: …" — three header fields in a row, one of them the sender."""
    if not (_FROM.match(lines[index]) or _HEADER_FIELD.match(lines[index])):
        return False
    block = [line for line in lines[index : index + 7] if line.strip()][:4]
    fields = [line for line in block if _FROM.match(line) or _HEADER_FIELD.match(line)]
    return len(fields) >= 3 and any(_FROM.match(line) for line in fields)


def reply_text(text: str) -> str:
    """The new part of a reply, for display: quoted lines (">") and the
    quote header above them removed wherever they are (top or bottom
    posting), then everything from the first separator or Outlook header
    block on. Returns the text unchanged when nothing would be left."""
    lines = text.replace("\r\n", "\n").split("\n")
    drop = [line.lstrip().startswith(">") for line in lines]
    # The quote header just above each quoted block: the lines of the
    # paragraph above it from the one that starts like a header ("Am …",
    # "On …", a date) and ends with a colon.
    for start in range(len(lines)):
        if not drop[start] or (start > 0 and drop[start - 1]):
            continue
        above = start - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        if above < 0 or not lines[above].rstrip().endswith(":"):
            continue
        head = above
        for candidate in range(above, max(above - 3, -1), -1):
            if not lines[candidate].strip():
                break
            if _QUOTE_HEAD_START.search(lines[candidate]):
                head = candidate
        for index in range(head, start):
            drop[index] = True
    kept = [line for line, gone in zip(lines, drop, strict=True) if not gone]
    for index, line in enumerate(kept):
        if _SEPARATOR.match(line) or _outlook_block(kept, index):
            kept = kept[:index]
            break
    result = "\n".join(line.rstrip() for line in kept).strip("\n")
    result = re.sub(r"\n{3,}", "\n\n", result).strip()
    return result or text.strip()
