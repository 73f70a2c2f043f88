"""Demo teams and the 17 pre-made request forms of the demo cooperative.

Idempotent: teams by name, types by slug, fields by (type, key); fields no
longer listed for a demo type are removed, so re-running restores the demo."""

from decimal import Decimal

from django.db import transaction

from accounts.models import User
from routing.models import Team
from tickets.models import Category, CertificateKind, FieldKind, RequestField, RequestType

TEAMS = ["Vermietung", "Technik", "Mitgliederwesen", "Rechnungswesen", "Hausverwaltung"]

C = RequestType.Audience.CONTRACT_HOLDERS
M = RequestType.Audience.MEMBERS
FILE_HINT = ("Bis zu 10 Fotos oder Dateien.", "Up to 10 photos or files.")
# Certificates are there at once to download; "post" keeps the request for
# the office to post it (certificates.services.BY_POST).
DELIVERY = "download|Sofort als PDF herunterladen|Download as PDF now\npost|Per Post|By post"


def options(*rows: tuple[str, str, str]) -> str:
    """Choice lines in RequestField's format: value|German|English."""
    return "\n".join("|".join(row) for row in rows)


def f(
    key, kind, de, en, required=True, hint=("", ""), choices="", low=None, high=None, no_past=False
):
    return {
        "key": key,
        "kind": kind,
        "label_de": de,
        "label_en": en,
        "required": required,
        "help_de": hint[0],
        "help_en": hint[1],
        "choices": choices,
        "min_value": Decimal(low) if low is not None else None,
        "max_value": Decimal(high) if high is not None else None,
        "no_past_dates": no_past,
    }


TYPES = [
    {
        "slug": "schadensmeldung",
        "synonyms": (
            "Heizung kalt, Heizung, Heizkörper, Warmwasser, kein warmes Wasser, kalt",
            "tropft, Wasserhahn, Wasser, undicht, Leck, Rohrbruch, Wasserschaden, nass",
            "Schimmel, Schimmelflecken, feucht, Feuchtigkeit, verstopft, Abfluss, Toilette",
            "Klo, WC, Spülung, Dusche, Badewanne, Waschbecken, Fenster, Tür klemmt",
            "Rollladen, Jalousie, Steckdose, Licht, Lampe, Strom, Sicherung, Aufzug",
            "Fahrstuhl, Klingel, Gegensprechanlage, Briefkasten, kaputt, defekt, Schaden",
            "Reparatur, reparieren, Handwerker, Handwerkertermin, Termin Handwerker",
            "Hausmeister, Riss, Ungeziefer, Kakerlaken, Mäuse, funktioniert nicht",
            "geht nicht, broken, repair, leak, leaking, tap, dripping, heating, radiator",
            "mould, mold, damp, blocked, toilet, window, door, lift, elevator, light",
            "damage, tradesman, plumber",
        ),
        "name": ("Schadensmeldung / Reparatur", "Repair report"),
        "help": (
            "Melden Sie uns einen Schaden in Ihrer Wohnung oder im Haus. Bei Gefahr "
            "(Wasserrohrbruch, Gasgeruch, Stromausfall) rufen Sie bitte sofort den Notdienst an.",
            "Report damage in your apartment or the building. In an emergency (burst pipe, "
            "smell of gas, power failure) please call the emergency service at once.",
        ),
        "category": Category.REPAIR,
        "audience": C,
        "team": "Technik",
        "position": 10,
        "fields": [
            f("room", FieldKind.ROOM, "Wo ist der Schaden?", "Where is the damage?"),
            f(
                "what",
                FieldKind.TEXTAREA,
                "Was ist kaputt?",
                "What is broken?",
                hint=("Beschreiben Sie kurz, was Sie sehen.", "Briefly describe what you see."),
            ),
            f("since", FieldKind.DATE, "Seit wann?", "Since when?", required=False),
            f(
                "urgency",
                FieldKind.CHOICE,
                "Wie dringend ist es?",
                "How urgent is it?",
                hint=(
                    "Im Notfall rufen Sie bitte sofort unsere Notrufnummer an – Tag und Nacht.",
                    "In an emergency please call our emergency number at once – day and night.",
                ),
                # The fourth part is the priority the option gives the
                # request (and with it the SLA policy for that priority).
                choices=options(
                    ("normal", "Normal", "Normal"),
                    ("dringend", "Dringend (heute/morgen)", "Urgent (today/tomorrow)", "urgent"),
                    (
                        "notfall",
                        "Notfall (Gefahr, Wasser, Strom, Gas)",
                        "Emergency (danger, water, electricity, gas)",
                        "emergency",
                    ),
                ),
            ),
            f("photos", FieldKind.FILE, "Fotos", "Photos", required=False, hint=FILE_HINT),
            f(
                "master_key",
                FieldKind.YESNO,
                "Darf die Handwerkerin/der Handwerker mit dem Generalschlüssel die Wohnung "
                "betreten, wenn Sie nicht da sind?",
                "May the tradesperson enter the apartment with the master key "
                "when you are not at home?",
            ),
        ],
    },
    {
        "slug": "mitgliedsbescheinigung",
        "synonyms": (
            "Bescheinigung, Mitgliedsbescheinigung, Nachweis, Bestätigung",
            "Mitgliedschaft bestätigen, Jobcenter, Amt, Wohngeld, Sozialamt, Finanzamt",
            "Anteile, Geschäftsanteile, Genossenschaftsanteile, certificate",
            "proof of membership, confirmation, membership, shares",
        ),
        "name": ("Mitgliedsbescheinigung", "Membership certificate"),
        "help": (
            "Wir bestätigen Ihnen Ihre Mitgliedschaft und Ihre Geschäftsanteile.",
            "We confirm your membership and your shares.",
        ),
        "category": Category.MEMBERSHIP,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 10,
        "fields": [
            f(
                "purpose",
                FieldKind.TEXT,
                "Wofür benötigen Sie die Bescheinigung?",
                "What do you need the certificate for?",
                required=False,
            ),
            f(
                "delivery",
                FieldKind.CHOICE,
                "Wie möchten Sie sie erhalten?",
                "How would you like to receive it?",
                choices=DELIVERY,
            ),
        ],
        # Issued at once from the member records (certificates).
        "certificate": CertificateKind.MEMBERSHIP,
    },
    {
        "slug": "auszug-mitgliederliste",
        "synonyms": (
            "Auszug, Mitgliederliste, Abschrift, Eintragung, Eintragungen, Einsicht",
            "Mitgliederverzeichnis, § 31 GenG, extract, members' list, register, entries",
        ),
        "name": ("Auszug aus der Mitgliederliste", "Extract from the members' list"),
        "help": (
            "Eine Abschrift Ihrer eigenen Eintragungen in der Mitgliederliste (§ 31 GenG): "
            "Name, Anschrift, Eintritt, Geschäftsanteile und gegebenenfalls Ausscheiden.",
            "A copy of your own entries in the members' list (§ 31 GenG): name, address, "
            "joining, shares and leaving, if any.",
        ),
        "category": Category.MEMBERSHIP,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 11,
        "fields": [
            f(
                "delivery",
                FieldKind.CHOICE,
                "Wie möchten Sie den Auszug erhalten?",
                "How would you like to receive it?",
                choices=DELIVERY,
            ),
        ],
        "certificate": CertificateKind.REGISTER_EXTRACT,
    },
    {
        # The statutes of the demo cooperative: the business year is the
        # calendar year, voluntary shares are cancelled with three months'
        # notice (Cooperative.share_notice_months, business_year_end_month).
        "slug": "anteile-zeichnen",
        "synonyms": (
            "Anteile, weitere Anteile, Geschäftsanteile, freiwillige Anteile, zeichnen",
            "Anteile kaufen, Beteiligung erhöhen, Geld anlegen, Dividende, Genossenschaftsanteile",
            "shares, buy shares, more shares, subscribe, invest, dividend",
        ),
        "name": ("Weitere Geschäftsanteile zeichnen", "Subscribe additional shares"),
        "help": (
            "Mit weiteren, freiwilligen Anteilen beteiligen Sie sich stärker an der "
            "Genossenschaft; auf sie erhalten Sie die Dividende, die die "
            "Mitgliederversammlung beschließt. Die Beteiligung bedarf einer schriftlichen "
            "Erklärung (§ 15b GenG): Wir senden sie Ihnen zur Unterschrift. Zugelassen ist "
            "die Beteiligung, sobald der Vorstand zugestimmt hat.",
            "With additional voluntary shares you take a larger part in the cooperative and "
            "receive the dividend the members' assembly decides on them. Subscribing needs a "
            "signed declaration (GenG § 15b): we send it to you to sign. The subscription is "
            "admitted once the board has agreed.",
        ),
        "category": Category.MEMBERSHIP,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 30,
        "fields": [
            f(
                "count",
                FieldKind.SHARES_SUBSCRIBE,
                "Wie viele weitere Anteile möchten Sie zeichnen?",
                "How many additional shares do you want to subscribe?",
                high="20",
            ),
            f(
                "payment",
                FieldKind.CHOICE,
                "Wie möchten Sie den Betrag zahlen?",
                "How would you like to pay the amount?",
                choices=options(
                    ("transfer", "Per Überweisung", "By bank transfer"),
                    ("debit", "Per Lastschrift vom bekannten Konto", "By direct debit"),
                ),
            ),
            f("remarks", FieldKind.TEXTAREA, "Bemerkungen", "Remarks", required=False),
        ],
    },
    {
        "slug": "anteile-kuendigen",
        "synonyms": (
            "Anteile kündigen, freiwillige Anteile kündigen, Geschäftsanteile kündigen",
            "Anteile zurückgeben, Guthaben auszahlen, Auszahlung, Geld zurück",
            "cancel shares, sell shares, give back shares, pay out",
        ),
        "name": ("Freiwillige Geschäftsanteile kündigen", "Cancel voluntary shares"),
        "help": (
            "Freiwillige Anteile – die über Ihre Pflichtanteile hinaus – können Sie zum Ende "
            "eines Geschäftsjahres kündigen (§ 67b GenG). Die Kündigungsfrist bestimmt die "
            "Satzung; sie beträgt mindestens drei Monate (§ 65 Abs. 2 GenG). Die Kündigung "
            "bedarf der Schriftform: Wir senden Ihnen die Erklärung zur Unterschrift; "
            "maßgeblich für die Frist ist ihr Eingang bei uns. Das Guthaben der gekündigten "
            "Anteile zahlen wir nach dem Jahresabschluss aus, wie die Satzung es vorsieht. "
            "Ihre Mitgliedschaft und Ihre Pflichtanteile bleiben bestehen.",
            "You can cancel voluntary shares – those beyond your compulsory shares – to the "
            "end of a business year (GenG § 67b). The statutes set the notice period; it is at "
            "least three months (GenG § 65 (2)). The cancellation must be in writing: we send "
            "you the declaration to sign; what counts for the notice is the day we receive it. "
            "We pay out the balance of the cancelled shares after the annual accounts, as the "
            "statutes provide. Your membership and your compulsory shares remain.",
        ),
        "category": Category.MEMBERSHIP,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 40,
        "fields": [
            f(
                "count",
                FieldKind.SHARES_CANCEL,
                "Wie viele freiwillige Anteile kündigen Sie?",
                "How many voluntary shares do you cancel?",
            ),
            f(
                "effective",
                FieldKind.YEAR_END,
                "Zum Ende des Geschäftsjahres am",
                "To the end of the business year on",
            ),
            f("remarks", FieldKind.TEXTAREA, "Bemerkungen", "Remarks", required=False),
        ],
    },
    {
        "slug": "bankverbindung",
        "synonyms": (
            "IBAN, Konto, Kontonummer, Bankkonto, Bank, Bankverbindung, neue Bank",
            "Bankwechsel, Lastschrift, SEPA, Abbuchung, abbuchen, Einzug, Dauerauftrag",
            "Miete zahlen, Nutzungsgebühr zahlen, bank account, bank details, direct debit",
            "account number, payment",
        ),
        "name": ("Bankverbindung ändern", "Change bank details"),
        "help": (
            "Ab dem gewählten Datum buchen wir die Nutzungsgebühr von diesem Konto ab.",
            "From the chosen date we collect the monthly fee from this account.",
        ),
        "category": Category.PAYMENTS,
        "audience": M,
        "team": "Rechnungswesen",
        "position": 10,
        "fields": [
            f(
                "account_holder",
                FieldKind.TEXT,
                "Kontoinhaberin oder Kontoinhaber",
                "Account holder",
            ),
            f(
                "iban",
                FieldKind.IBAN,
                "IBAN",
                "IBAN",
                hint=("z. B. DE02 1203 0000 0000 2020 51", "e.g. DE02 1203 0000 0000 2020 51"),
            ),
            f("valid_from", FieldKind.DATE, "Gültig ab", "Valid from", no_past=True),
            f(
                "sepa_consent",
                FieldKind.YESNO,
                "Erteilen Sie uns ein SEPA-Lastschriftmandat für dieses Konto?",
                "Do you give us a SEPA direct debit mandate for this account?",
            ),
        ],
    },
    {
        "slug": "namensaenderung",
        "synonyms": (
            "Name, Namensänderung, Nachname, neuer Name, Heirat, geheiratet, Hochzeit",
            "Scheidung, geschieden, Geburtsname, Doppelname, Schreibweise, Name falsch",
            "Eheurkunde, Heiratsurkunde, name change, married, marriage, divorce, divorced",
            "surname",
        ),
        "name": ("Namensänderung", "Change of name"),
        "help": (
            "Bitte fügen Sie eine Kopie der Urkunde bei, wenn Sie eine haben.",
            "Please attach a copy of the certificate if you have one.",
        ),
        "category": Category.MEMBERSHIP,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 20,
        "fields": [
            f("new_last_name", FieldKind.TEXT, "Neuer Nachname", "New last name"),
            f(
                "reason",
                FieldKind.CHOICE,
                "Grund",
                "Reason",
                choices=options(
                    ("marriage", "Heirat", "Marriage"),
                    ("divorce", "Scheidung", "Divorce"),
                    ("other", "Anderer Grund", "Other reason"),
                ),
            ),
            f("effective_date", FieldKind.DATE, "Gültig seit", "Valid since"),
            f(
                "document",
                FieldKind.FILE,
                "Urkunde",
                "Certificate",
                required=False,
                hint=(
                    "z. B. Kopie der Heiratsurkunde.",
                    "e.g. a copy of the marriage certificate.",
                ),
            ),
        ],
    },
    {
        # For members who live outside the cooperative's flats (or move out
        # and stay members): the office keeps their postal address. A move
        # within the cooperative is "wohnungswechsel".
        "slug": "adressaenderung",
        "synonyms": (
            "Adresse, Adressänderung, neue Adresse, Anschrift, neue Anschrift, Postanschrift",
            "Postadresse, weggezogen, verzogen, Nachsendeauftrag, address, new address",
            "change of address, postal address, moved away",
        ),
        "name": ("Adressänderung", "Change of address"),
        "help": (
            "Für Mitglieder, die nicht (mehr) in einer Wohnung der Genossenschaft wohnen: "
            "Ihre neue Anschrift für Post von uns. Umzug innerhalb der Genossenschaft? "
            "Bitte nutzen Sie „Wohnungswechsel oder Wohnungstausch“.",
            "For members who do not (or no longer) live in one of the cooperative's "
            "apartments: your new address for our letters. Moving within the cooperative? "
            "Please use “Move to another apartment or swap”.",
        ),
        "category": Category.MEMBERSHIP,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 30,
        "fields": [
            f("street", FieldKind.TEXT, "Straße und Hausnummer", "Street and number"),
            f(
                "address_extra",
                FieldKind.TEXT,
                "Adresszusatz (optional)",
                "Address line 2 (optional)",
                required=False,
                hint=("z. B. „bei Müller“ oder „Hinterhaus“.", "e.g. “c/o Miller”."),
            ),
            f("postcode", FieldKind.TEXT, "Postleitzahl", "Postcode"),
            f("city", FieldKind.TEXT, "Ort", "Town or city"),
            f(
                "country",
                FieldKind.TEXT,
                "Land (wenn nicht Deutschland)",
                "Country (if not Germany)",
                required=False,
            ),
            f("valid_from", FieldKind.DATE, "Gültig ab", "Valid from"),
        ],
    },
    {
        "slug": "parkplatz",
        "synonyms": (
            "Parkplatz, Stellplatz, Garage, Tiefgarage, parken, Auto, Carport, Fahrrad",
            "Fahrradstellplatz, Fahrradkeller, E-Bike, Motorrad, Wallbox, Ladestation",
            "parking, parking space, car park, car, bike, bicycle",
        ),
        "name": ("Parkplatz oder Garage anfragen", "Parking space or garage"),
        "help": (
            "Wir setzen Sie auf die Warteliste Ihrer Wohnanlage.",
            "We put you on the waiting list of your estate.",
        ),
        "category": Category.APARTMENT,
        "audience": C,
        "team": "Vermietung",
        "position": 30,
        "fields": [
            f(
                "kind",
                FieldKind.CHOICE,
                "Was suchen Sie?",
                "What are you looking for?",
                choices=options(
                    ("stellplatz", "Stellplatz", "Parking space"),
                    ("garage", "Garage", "Garage"),
                    ("ebike", "Fahrrad- oder E-Bike-Stellplatz", "Bicycle or e-bike space"),
                ),
            ),
            f("from_date", FieldKind.DATE, "Ab wann?", "From when?", required=False),
            f("remarks", FieldKind.TEXTAREA, "Bemerkungen", "Remarks", required=False),
        ],
    },
    {
        "slug": "gaestewohnung",
        "synonyms": (
            "Gästewohnung, Gästezimmer, Gäste, Besuch, Übernachtung, übernachten",
            "Familie zu Besuch, Ferienwohnung, buchen, reservieren, guest apartment",
            "guest flat, guest room, guests, visitors, visit, overnight, stay",
        ),
        "name": ("Gästewohnung buchen", "Book the guest apartment"),
        # Members book it online (rooms); staff still log a caller's wish.
        "books": "gaestewohnung",
        "help": (
            "Für Ihren Besuch – solange die Gästewohnung frei ist.",
            "For your visitors – while the guest apartment is free.",
        ),
        "category": Category.APARTMENT,
        "audience": M,
        "team": "Vermietung",
        "position": 40,
        "fields": [
            f("arrival", FieldKind.DATE, "Anreise", "Arrival"),
            f("departure", FieldKind.DATE, "Abreise", "Departure"),
            f(
                "guests",
                FieldKind.NUMBER,
                "Anzahl der Gäste",
                "Number of guests",
                low="1",
                high="6",
            ),
            f("remarks", FieldKind.TEXTAREA, "Bemerkungen", "Remarks", required=False),
        ],
    },
    {
        "slug": "wohnungswechsel",
        "synonyms": (
            "Umzug, umziehen, Wohnungstausch, tauschen, andere Wohnung, größere Wohnung",
            "kleinere Wohnung, zu klein, zu groß, barrierefrei, barrierearm, Erdgeschoss",
            "mehr Zimmer, Nachwuchs, move, moving, relocate, swap, exchange, bigger flat",
            "smaller flat, bigger apartment, smaller apartment",
        ),
        "name": ("Wohnungswechsel oder Wohnungstausch", "Move to another apartment or swap"),
        "help": (
            "Sie möchten innerhalb der Genossenschaft umziehen? Wir beraten Sie gern.",
            "You would like to move within the cooperative? We are happy to advise you.",
        ),
        "category": Category.APARTMENT,
        "audience": C,
        "team": "Vermietung",
        "position": 20,
        "fields": [
            f(
                "reason",
                FieldKind.CHOICE,
                "Warum möchten Sie wechseln?",
                "Why would you like to move?",
                choices=options(
                    ("bigger", "Größere Wohnung", "Bigger apartment"),
                    ("smaller", "Kleinere Wohnung", "Smaller apartment"),
                    ("barrier_free", "Barrierearme Wohnung", "Barrier-free apartment"),
                    ("other", "Anderer Grund", "Other reason"),
                ),
            ),
            f(
                "rooms",
                FieldKind.NUMBER,
                "Gewünschte Zimmerzahl",
                "Number of rooms wanted",
                required=False,
                low="1",
                high="6",
            ),
            f(
                "estate_wish",
                FieldKind.TEXT,
                "Wunsch-Wohnanlage",
                "Preferred estate",
                required=False,
            ),
            f("remarks", FieldKind.TEXTAREA, "Bemerkungen", "Remarks", required=False),
        ],
    },
    {
        "slug": "kuendigung",
        "synonyms": (
            "kündigen, Kündigung, Wohnung kündigen, Vertrag kündigen, Vertrag beenden",
            "ausziehen, Auszug, Nachmieter, Wohnungsübergabe, Übergabe, Kündigungsfrist",
            "Pflegeheim, Umzug in eine andere Stadt, Todesfall, verstorben, Sterbefall",
            "terminate, termination, cancel, notice, move out, moving out",
        ),
        "name": ("Kündigung des Nutzungsvertrags", "Notice of termination of the contract"),
        "help": (
            "Die gesetzliche Kündigungsfrist beträgt drei Monate. Alle Vertragspartner müssen "
            "einverstanden sein; wir senden Ihnen die Bestätigung zur Unterschrift.",
            "The statutory notice period is three months. All contract holders must agree; "
            "we send you the confirmation to sign.",
        ),
        "category": Category.APARTMENT,
        "audience": C,
        "team": "Vermietung",
        "position": 50,
        "fields": [
            f("end_date", FieldKind.DATE, "Zum", "Ending on"),
            f("new_address", FieldKind.TEXTAREA, "Neue Anschrift", "New address", required=False),
            f(
                "handover_phone",
                FieldKind.TEXT,
                "Telefon für die Wohnungsübergabe",
                "Phone for the handover",
                required=False,
            ),
            f(
                "confirmation",
                FieldKind.YESNO,
                "Alle Vertragspartner sind einverstanden",
                "All contract holders agree",
            ),
        ],
    },
    {
        "slug": "genehmigung",
        "synonyms": (
            "Genehmigung, Erlaubnis, erlauben, erlaubt, darf, dürfen, Zustimmung, Haustier",
            "Hund, Katze, Tier, Tierhaltung, Untervermietung, untervermieten, Untermieter",
            "WG, Umbau, umbauen, Renovierung, Satellitenschüssel, Markise, Einbauküche",
            "Laminat, Parkett, Balkonkraftwerk, Solarmodul, permission, allowed, pet, dog",
            "cat, sublet, subletting, lodger, renovation, alteration",
        ),
        "name": (
            "Genehmigung (Untervermietung, Haustier, Umbau)",
            "Permission (subletting, pet, structural change)",
        ),
        "help": (
            "Für manches brauchen Sie unsere Zustimmung. Beschreiben Sie Ihr Vorhaben.",
            "Some things need our consent. Describe what you plan.",
        ),
        "category": Category.APARTMENT,
        "audience": C,
        "team": "Hausverwaltung",
        "position": 60,
        "fields": [
            f(
                "subject",
                FieldKind.CHOICE,
                "Worum geht es?",
                "What is it about?",
                choices=options(
                    ("untervermietung", "Untervermietung", "Subletting"),
                    ("haustier", "Haustier", "Pet"),
                    ("umbau", "Bauliche Veränderung", "Structural change"),
                    ("other", "Etwas anderes", "Something else"),
                ),
            ),
            f("description", FieldKind.TEXTAREA, "Beschreibung", "Description"),
            f(
                "attachments",
                FieldKind.FILE,
                "Unterlagen",
                "Documents",
                required=False,
                hint=FILE_HINT,
            ),
        ],
    },
    {
        "slug": "schluessel",
        "synonyms": (
            "Schlüssel, Schlüssel verloren, Ersatzschlüssel, Zweitschlüssel, nachmachen",
            "Transponder, Chip, Schließanlage, Schließzylinder, Schloss, ausgesperrt",
            "Haustürschlüssel, Briefkastenschlüssel, key, keys, lost key, locked out, fob",
            "spare key",
        ),
        "name": ("Schlüssel oder Transponder", "Keys and transponders"),
        "help": (
            "Verlorene Schlüssel melden Sie bitte sofort.",
            "Please report lost keys at once.",
        ),
        "category": Category.REPAIR,
        "audience": C,
        "team": "Hausverwaltung",
        "position": 20,
        "fields": [
            f(
                "need",
                FieldKind.CHOICE,
                "Was brauchen Sie?",
                "What do you need?",
                choices=options(
                    ("lost", "Schlüssel verloren", "Key lost"),
                    ("additional", "Zusätzlicher Schlüssel", "Additional key"),
                    ("broken", "Schlüssel oder Transponder defekt", "Key or transponder broken"),
                ),
            ),
            f("count", FieldKind.NUMBER, "Anzahl", "Number", low="1", high="10"),
            f(
                "key_kind",
                FieldKind.TEXT,
                "Welche Schlüssel?",
                "Which keys?",
                required=False,
                hint=("z. B. Haustür, Briefkasten", "e.g. front door, letter box"),
            ),
        ],
    },
    {
        "slug": "zaehlerstand",
        "synonyms": (
            "Zählerstand, Zähler, ablesen, Ablesung, Zähler ablesen, Heizung ablesen",
            "Zählerstand Wasser, Zählerstand Strom, Wasseruhr, Wasserzähler, Stromzähler",
            "Gaszähler, Heizkostenverteiler, Verbrauch, Kilowattstunden, kWh, Kubikmeter",
            "meter, meter reading, reading, consumption",
        ),
        "name": ("Zählerstand melden", "Report a meter reading"),
        "help": (
            "Die Zählernummer steht auf dem Zähler.",
            "The meter number is printed on the meter.",
        ),
        "category": Category.PAYMENTS,
        "audience": C,
        "team": "Rechnungswesen",
        "position": 20,
        "fields": [
            f(
                "meter_kind",
                FieldKind.CHOICE,
                "Welcher Zähler?",
                "Which meter?",
                choices=options(
                    ("water_cold", "Kaltwasser", "Cold water"),
                    ("water_hot", "Warmwasser", "Hot water"),
                    ("heating", "Heizung", "Heating"),
                    ("electricity", "Strom", "Electricity"),
                ),
            ),
            f("meter_number", FieldKind.TEXT, "Zählernummer", "Meter number"),
            f("reading", FieldKind.NUMBER, "Zählerstand", "Reading", low="0"),
            f("reading_date", FieldKind.DATE, "Abgelesen am", "Read on"),
            f("photo", FieldKind.FILE, "Foto des Zählers", "Photo of the meter", required=False),
        ],
    },
    {
        "slug": "nebenkosten",
        "synonyms": (
            "Nebenkosten, Nebenkostenabrechnung, Betriebskosten, Abrechnung, Heizkosten",
            "Nachzahlung, Guthaben, Rückzahlung, Vorauszahlung, Abschlag, Erstattung",
            "zu hoch, zu teuer, service charge, service charges, utility bill, statement",
            "bill, refund, additional costs",
        ),
        "name": (
            "Frage zur Nebenkostenabrechnung",
            "Question about the service charge statement",
        ),
        "help": (
            "Nennen Sie bitte das Abrechnungsjahr und Ihre Frage.",
            "Please tell us the year and your question.",
        ),
        "category": Category.PAYMENTS,
        "audience": C,
        "team": "Rechnungswesen",
        "position": 30,
        "fields": [
            f(
                "year",
                FieldKind.NUMBER,
                "Abrechnungsjahr",
                "Year of the statement",
                low="2000",
                high="2100",
            ),
            f("question", FieldKind.TEXTAREA, "Ihre Frage", "Your question"),
            f(
                "document",
                FieldKind.FILE,
                "Abrechnung (optional)",
                "Statement (optional)",
                required=False,
            ),
        ],
    },
    {
        "slug": "allgemein",
        "synonyms": (
            "Frage, Termin, Sprechstunde, Sprechzeiten, Öffnungszeiten, Beratung, Rückruf",
            "Lärm, laut, Nachbar, Nachbarn, Lärm Nachbar, Streit, Beschwerde, Hausordnung",
            "Ruhezeit, Müll, Mülltonne, Sperrmüll, Treppenhaus, Reinigung, Sommerfest",
            "Mitgliederversammlung, Vertreterversammlung, Satzung, Dividende, Sonstiges",
            "Anregung, Lob, question, appointment, noise, noisy, neighbour, neighbours",
            "neighbor, complaint, rubbish, other",
        ),
        "name": ("Allgemeine Frage", "General question"),
        "help": (
            "Für alles, wofür es kein eigenes Formular gibt.",
            "For everything that has no form of its own.",
        ),
        "category": Category.GENERAL,
        "audience": M,
        "team": "Mitgliederwesen",
        "position": 10,
        "fields": [
            f("subject", FieldKind.TEXT, "Betreff", "Subject"),
            f("message", FieldKind.TEXTAREA, "Ihre Nachricht", "Your message"),
            f(
                "attachments",
                FieldKind.FILE,
                "Anhänge",
                "Attachments",
                required=False,
                hint=FILE_HINT,
            ),
        ],
    },
]


def teams_ensure() -> dict[str, Team]:
    hanna = User.objects.filter(email="hanna@example.org").first()
    tom = User.objects.filter(email="tom@example.org").first()
    if not Team.objects.filter(name__in=TEAMS).exists():
        return _teams_create(hanna, tom)
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
    if hanna is not None:
        teams["Technik"].members.add(hanna)
        teams["Hausverwaltung"].members.add(hanna)
    if tom is not None:
        teams["Technik"].members.add(tom)
        if teams["Technik"].lead_id != tom.pk:
            teams["Technik"].lead = tom
            teams["Technik"].save(update_fields=["lead", "updated_at"])
    return teams


def _teams_create(hanna: User | None, tom: User | None) -> dict[str, Team]:
    """teams_ensure on a database without the demo teams (every test's cast):
    the same teams, members and lead in two statements."""
    teams = {name: Team(name=name, lead=tom if name == "Technik" else None) for name in TEAMS}
    Team.objects.bulk_create(teams.values())
    people = [("Technik", hanna), ("Hausverwaltung", hanna), ("Technik", tom)]
    Membership = Team.members.through
    Membership.objects.bulk_create(
        Membership(team=teams[name], user=person) for name, person in people if person is not None
    )
    return teams


# Personal requests: the household partner does not see them (domain rule).
PERSONAL = {
    "mitgliedsbescheinigung",
    "auszug-mitgliederliste",
    "anteile-zeichnen",
    "anteile-kuendigen",
    "bankverbindung",
    "namensaenderung",
    "adressaenderung",
    "wohnungswechsel",
    "kuendigung",
    "allgemein",
}


def _type_values(spec: dict, teams: dict[str, Team]) -> dict:
    return {
        "name_de": spec["name"][0],
        "name_en": spec["name"][1],
        "help_de": spec["help"][0],
        "help_en": spec["help"][1],
        "category": spec["category"],
        "audience": spec["audience"],
        "shared_with_household": spec["slug"] not in PERSONAL,
        "synonyms": ", ".join(spec.get("synonyms", ())),
        "default_team": teams[spec["team"]],
        "position": spec["position"],
        "in_portal": True,
        "active": True,
        "books_online": spec.get("books", ""),
        "certificate": spec.get("certificate", ""),
    }


def _field_values(field: dict, position: int) -> dict:
    return {**{k: v for k, v in field.items() if k != "key"}, "position": position}


def request_types_ensure(teams: dict[str, Team]) -> list[RequestType]:
    if not RequestType.objects.filter(slug__in=[spec["slug"] for spec in TYPES]).exists():
        return _request_types_create(teams)
    result = []
    for spec in TYPES:
        request_type, _ = RequestType.objects.update_or_create(
            slug=spec["slug"], defaults=_type_values(spec, teams)
        )
        keys = []
        for position, field in enumerate(spec["fields"]):
            RequestField.objects.update_or_create(
                request_type=request_type,
                key=field["key"],
                defaults=_field_values(field, position),
            )
            keys.append(field["key"])
        request_type.fields.exclude(key__in=keys).delete()
        result.append(request_type)
    return result


def _request_types_create(teams: dict[str, Team]) -> list[RequestType]:
    """request_types_ensure on a database without any demo type (every
    test's cast): the same types and fields in two statements."""
    result = [RequestType(slug=spec["slug"], **_type_values(spec, teams)) for spec in TYPES]
    RequestType.objects.bulk_create(result)
    RequestField.objects.bulk_create(
        RequestField(request_type=request_type, key=field["key"], **_field_values(field, position))
        for request_type, spec in zip(result, TYPES, strict=True)
        for position, field in enumerate(spec["fields"])
    )
    return result


@transaction.atomic
def tickets_demo_ensure() -> list[RequestType]:
    return request_types_ensure(teams_ensure())
