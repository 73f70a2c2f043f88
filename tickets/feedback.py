"""Reports of accessibility problems (the feedback the accessibility
statement promises, BFSG / BITV 2.0): a request like any other, in the one
inbox, routed by the rules — from anyone, logged in or not, since not
everyone who meets a barrier can log in.

The form is a request type of its own (slug ACCESSIBILITY_SLUG) that the
code makes on first use rather than a data migration: the public page
needs it on every installation, and a type made by a migration would be
gone from a test database after the first test that flushes it. Once made
it is an ordinary row — the office renames it, edits its fields or gives
it a default team in the administration; only its slug is fixed."""

from django.db import IntegrityError, transaction

from accounts.models import User
from core.request_cache import request_cached
from tickets.intake import intake_account
from tickets.models import Category, Channel, FieldKind, RequestField, RequestType, Ticket
from tickets.services import ticket_open

ACCESSIBILITY_SLUG = "barrierefreiheit"
# The account that logs reports of people who are not logged in.
WEB_INTAKE_EMAIL = "web-formular@genoportal.invalid"
# Kinds the public form never offers, whatever the office adds to the type:
# no uploads from strangers, nothing that needs a member's shares.
PUBLIC_KINDS_EXCLUDED = (
    FieldKind.FILE,
    FieldKind.SHARES_SUBSCRIBE,
    FieldKind.SHARES_CANCEL,
    FieldKind.YEAR_END,
)

ACCESSIBILITY_TYPE = {
    "name_de": "Barriere melden",
    "name_en": "Report an accessibility problem",
    "help_de": (
        "Sie sind auf eine Barriere gestoßen – etwas ließ sich nicht mit der Tastatur "
        "bedienen, ein Screenreader las es nicht vor, ein Text war schlecht lesbar oder ein "
        "Dokument nicht zugänglich? Schreiben Sie uns, was nicht funktioniert hat."
    ),
    "help_en": (
        "Did you meet a barrier – something you could not use with the keyboard, a screen "
        "reader did not read out, text that was hard to read, a document that was not "
        "accessible? Tell us what did not work."
    ),
    "category": Category.PORTAL,
    "audience": RequestType.Audience.EVERYONE,
    "shared_with_household": False,
    "in_portal": False,
    "synonyms": (
        "Barriere, barrierefrei, Barrierefreiheit, Screenreader, Vorlesen, Tastatur, "
        "Kontrast, Schrift zu klein, Zoom, accessibility, screen reader, keyboard"
    ),
    "position": 10,
}
ACCESSIBILITY_FIELDS = [
    {
        "key": "page",
        "kind": FieldKind.TEXT,
        "label_de": "Auf welcher Seite oder bei welchem Schritt?",
        "label_en": "On which page or at which step?",
        "help_de": "Die Adresse der Seite oder eine Beschreibung, z. B. „Anliegen senden“.",
        "help_en": "The page's address or a description, e.g. “sending a request”.",
        "required": False,
    },
    {
        "key": "problem",
        "kind": FieldKind.TEXTAREA,
        "label_de": "Was hat nicht funktioniert?",
        "label_en": "What did not work?",
        "help_de": "Beschreiben Sie, was Sie tun wollten und was passiert ist.",
        "help_en": "Describe what you wanted to do and what happened.",
        "required": True,
    },
    {
        "key": "assistive",
        "kind": FieldKind.TEXT,
        "label_de": "Welche Hilfsmittel nutzen Sie?",
        "label_en": "Which assistive technology do you use?",
        "help_de": "z. B. Screenreader, Bildschirmlupe, Sprachsteuerung, nur Tastatur.",
        "help_en": "e.g. screen reader, magnifier, voice control, keyboard only.",
        "required": False,
    },
    {
        "key": "reply",
        "kind": FieldKind.CHOICE,
        "label_de": "Wie sollen wir Ihnen antworten?",
        "label_en": "How should we answer you?",
        "help_de": "",
        "help_en": "",
        "required": True,
        "choices": (
            "email|Per E-Mail|By e-mail\n"
            "phone|Per Telefon|By phone\n"
            "none|Keine Antwort nötig|No answer needed"
        ),
    },
]


def accessibility_request_type() -> RequestType:
    """The request type of accessibility reports, made on first use. Taken
    whether or not the office switched it off: the statement promises the
    feedback, so it must always lead somewhere."""

    def find() -> RequestType:
        found = (
            RequestType.objects.filter(slug=ACCESSIBILITY_SLUG)
            .select_related("default_team")
            .first()
        )
        return found or _accessibility_request_type_make()

    return request_cached(("request_type", ACCESSIBILITY_SLUG), find)


def _accessibility_request_type_make() -> RequestType:
    try:
        with transaction.atomic():
            request_type = RequestType.objects.create(
                slug=ACCESSIBILITY_SLUG, active=True, **ACCESSIBILITY_TYPE
            )
            RequestField.objects.bulk_create(
                RequestField(request_type=request_type, position=position, **field)
                for position, field in enumerate(ACCESSIBILITY_FIELDS)
            )
    except IntegrityError:  # made by a report sent at the same moment
        request_type = RequestType.objects.get(slug=ACCESSIBILITY_SLUG)
    return request_type


def public_definitions(request_type: RequestType) -> list[dict]:
    """The type's fields that the public form shows."""
    return [d for d in request_type.snapshot() if d["kind"] not in PUBLIC_KINDS_EXCLUDED]


def accessibility_report_open(
    *,
    user: User | None,
    answers: dict,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
) -> Ticket:
    """File an accessibility report. A logged-in member's is theirs (they
    follow it in the portal, its e-mails go to their account); anyone
    else's is logged by the web intake account with the contact details
    they gave (the confirmation goes to the address, if any). Routed by the
    rules like a member's request (the type is for everyone)."""
    request_type = accessibility_request_type()
    member = user.member if user is not None and user.is_member else None
    return ticket_open(
        request_type=request_type,
        member=member,
        answers=answers,
        channel=Channel.PORTAL,
        # Staff trying the form are named as its author too.
        created_by=user if user is not None else _web_intake(),
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
    )


def _web_intake() -> User:
    return intake_account(email=WEB_INTAKE_EMAIL, name="Web-Formular")
