"""What members write and the office answers, in German, and how often
each demo form is used: the texts of the demo's request history
(demo.history) and of the benchmark's data (bench/seed.py), one source for
both. Plain data and functions of a random generator: no database."""

import datetime
import random

# How often each demo request type is used (repairs most).
TYPE_WEIGHTS = {
    "schadensmeldung": 42,
    "zaehlerstand": 9,
    "nebenkosten": 8,
    "allgemein": 8,
    "schluessel": 5,
    "genehmigung": 4,
    "mitgliedsbescheinigung": 4,
    "parkplatz": 3,
    "gaestewohnung": 3,
    "bankverbindung": 3,
    "wohnungswechsel": 2,
    "adressaenderung": 1.5,
    "namensaenderung": 1.5,
    "kuendigung": 1.5,
    "anteile-zeichnen": 1,
    "anteile-kuendigen": 1,
    "auszug-mitgliederliste": 1,
    "barrierefreiheit": 1,
}

ROOM_WORDS = {
    "kitchen": "in der Küche",
    "bathroom": "im Bad",
    "toilet": "im Gäste-WC",
    "living_room": "im Wohnzimmer",
    "bedroom": "im Schlafzimmer",
    "childrens_room": "im Kinderzimmer",
    "hallway": "im Flur",
    "balcony": "auf dem Balkon",
    "cellar": "im Keller",
    "common_area": "im Treppenhaus",
    "other": "in der Wohnung",
}
WET = ["kitchen", "bathroom", "toilet"]
LIVING = ["living_room", "bedroom", "childrens_room"]
# (sentence with {room}, the rooms it happens in)
DAMAGES = [
    ("Die Heizung {room} bleibt kalt.", [*LIVING, "bathroom", "kitchen"]),
    ("Der Heizkörper {room} wird nicht mehr richtig warm.", [*LIVING, "bathroom", "hallway"]),
    ("Das Thermostatventil der Heizung {room} lässt sich nicht mehr drehen.", LIVING),
    ("Die Heizung {room} gluckert die ganze Nacht.", LIVING),
    ("Der Wasserhahn {room} tropft.", WET),
    ("Der Wasserhahn {room} lässt sich nicht mehr ganz zudrehen.", WET),
    ("Die Toilettenspülung {room} läuft ständig nach.", ["bathroom", "toilet"]),
    ("Der Abfluss {room} ist verstopft.", ["kitchen", "bathroom"]),
    ("Der Abfluss der Dusche {room} läuft nur sehr langsam ab.", ["bathroom"]),
    ("Das Warmwasser {room} wird nicht mehr heiß.", ["kitchen", "bathroom"]),
    ("An der Außenwand {room} bildet sich Schimmel.", [*LIVING, "bathroom"]),
    ("Hinter dem Schrank {room} ist die Wand feucht, es riecht nach Schimmel.", LIVING),
    ("Die Silikonfuge an der Badewanne {room} ist schwarz vor Schimmel.", ["bathroom"]),
    ("Das Fenster {room} schließt nicht mehr richtig.", [*LIVING, "kitchen", "bathroom"]),
    ("Der Rollladen {room} klemmt und lässt sich nicht mehr hochziehen.", [*LIVING, "kitchen"]),
    ("Der Gurt vom Rollladen {room} ist gerissen.", LIVING),
    ("Die Balkontür {room} ist undicht, es zieht stark.", ["living_room", "bedroom"]),
    ("Die Steckdose {room} funktioniert nicht mehr.", [*LIVING, "kitchen", "hallway"]),
    ("Die Deckenlampe {room} flackert, und die Sicherung fliegt raus.", [*LIVING, "hallway"]),
    ("Die Wohnungstür {room} klemmt beim Abschließen.", ["hallway"]),
    ("Die Beleuchtung {room} ist ausgefallen.", ["common_area", "cellar"]),
    ("Der Aufzug steht seit heute Morgen still, {room} ist es dunkel.", ["common_area"]),
    ("Die Klingel funktioniert nicht, Besuch kommt nicht herein.", ["hallway"]),
    ("Die Gegensprechanlage {room} rauscht nur noch.", ["hallway"]),
    ("Von der Decke {room} tropft Wasser, vermutlich aus der Wohnung darüber.", WET),
    ("Das Parkett {room} wölbt sich an mehreren Stellen.", LIVING),
    ("Die Fliesen {room} haben Risse, eine ist herausgefallen.", ["bathroom", "kitchen"]),
    ("Die Dunstabzugshaube {room} saugt nicht mehr.", ["kitchen"]),
    ("Es riecht {room} nach Abwasser.", ["bathroom", "kitchen", "cellar"]),
    ("Das Geländer {room} ist locker.", ["balcony", "common_area"]),
    ("Der Abfluss {room} ist verstopft, bei Regen steht das Wasser.", ["balcony"]),
    ("Die Kellertür {room} lässt sich nicht mehr abschließen.", ["cellar"]),
    ("{room} sind Mäuse, man hört sie nachts.", ["cellar", "kitchen"]),
]
SINCE = [
    "Das Problem besteht seit gestern.",
    "Das geht schon seit einer Woche so.",
    "Seit dem Wochenende wird es immer schlimmer.",
    "Es ist jetzt schon das zweite Mal in diesem Jahr.",
    "Seit ein paar Tagen ist das so.",
    "Das ist seit Anfang des Monats so.",
]
EXTRAS = [
    "Bitte schicken Sie einen Handwerker.",
    "Ich bin vormittags zu Hause.",
    "Nachmittags ab 15 Uhr bin ich erreichbar.",
    "Der Schlüssel liegt bei den Nachbarn im Erdgeschoss.",
    "Wir haben ein Kleinkind, bitte kümmern Sie sich schnell darum.",
    "Fotos habe ich angehängt.",
    "Der Hauswart weiß schon Bescheid.",
    "Ich arbeite im Schichtdienst, bitte rufen Sie vorher an.",
    "Die Nachbarin hat das gleiche Problem.",
    "Vielen Dank im Voraus!",
]
PURPOSES = [
    "für das Jobcenter",
    "für den Wohngeldantrag",
    "für die Steuererklärung",
    "für meine Bank",
    "für die Elterngeldstelle",
    "",
    "",
]
PARKING_REMARKS = [
    "Ich habe ein Elektroauto und bräuchte eine Lademöglichkeit.",
    "Gern in der Nähe des Hauseingangs, ich bin gehbehindert.",
    "Wir haben seit kurzem ein zweites Auto.",
    "Für ein Lastenrad, falls möglich.",
    "",
    "",
]
GUEST_REMARKS = [
    "Besuch meiner Eltern zum Geburtstag.",
    "Meine Schwester kommt mit ihren zwei Kindern.",
    "Freunde aus Hamburg besuchen uns über Ostern.",
    "Zur Hochzeit unserer Tochter kommt die Familie.",
    "",
    "",
]
MOVE_REMARKS = [
    "Wir erwarten im Sommer unser zweites Kind.",
    "Die Treppen fallen mir schwer, ich suche eine Wohnung mit Aufzug.",
    "Die Kinder sind ausgezogen, die Wohnung ist uns zu groß.",
    "Gern mit Balkon, wenn es geht.",
    "",
]
PERMISSIONS = {
    "untervermietung": [
        "Ich möchte ein Zimmer für zwei Semester an eine Studentin untervermieten.",
        "Mein Neffe wohnt während seiner Ausbildung bei mir, darf er sich hier anmelden?",
    ],
    "haustier": [
        "Wir möchten gern eine Katze aus dem Tierheim aufnehmen.",
        "Wir würden uns gern einen kleinen Hund anschaffen.",
    ],
    "umbau": [
        "Wir möchten im Bad eine ebenerdige Dusche einbauen lassen.",
        "Wir möchten auf dem Balkon eine Markise anbringen.",
        "Wir möchten in der Küche neue Fliesen verlegen lassen.",
    ],
    "other": [
        "Wir möchten ein Balkonkraftwerk an der Brüstung anbringen.",
        "Darf ich im Hof ein Hochbeet aufstellen?",
    ],
}
KEY_KINDS = [
    "Wohnungsschlüssel",
    "Haustürschlüssel",
    "Briefkastenschlüssel",
    "Kellerschlüssel",
    "Transponder für die Tiefgarage",
    "",
]
BILL_QUESTIONS = [
    "Warum ist die Nachzahlung für die Heizkosten so hoch?",
    "Die Abrechnung enthält Kosten für die Gartenpflege, obwohl der Garten nicht gepflegt wurde.",
    "Können Sie die monatlichen Vorauszahlungen senken? Das Guthaben war sehr hoch.",
    "Können Sie die Vorauszahlungen erhöhen? Die Nachzahlung war für uns sehr hoch.",
    "Ich habe die Nebenkostenabrechnung noch nicht erhalten.",
    "Bitte erklären Sie mir die Position Hausstrom in der Abrechnung.",
    "Kann ich die Belege zur Abrechnung einsehen?",
    "Das Guthaben aus der Abrechnung wurde noch nicht überwiesen.",
]
GENERAL = [
    ("Lärm im Haus", "Seit Wochen wird nachts in der Wohnung über uns laut Musik gehört."),
    ("Fahrradkeller", "Im Fahrradkeller stehen viele alte Fahrräder, die niemandem gehören."),
    ("Mülltonnen", "Die Mülltonnen sind jede Woche überfüllt. Gibt es eine zusätzliche Tonne?"),
    ("Treppenhausreinigung", "Das Treppenhaus wurde seit drei Wochen nicht gereinigt."),
    ("Sperrmüll im Hof", "Im Hof steht seit Tagen Sperrmüll, der Ratten anzieht."),
    ("Mitgliederversammlung", "Wann findet die nächste Mitgliederversammlung statt?"),
    ("Grünpflege", "Die Hecke vor dem Haus müsste dringend geschnitten werden."),
    ("Tauben", "Auf unserem Balkon nisten Tauben. Was können wir tun?"),
    ("Stellplatz blockiert", "Ein fremdes Auto steht seit Tagen auf unserem Stellplatz."),
    ("Rauchmelder", "Der Rauchmelder im Flur piept regelmäßig, ich glaube die Batterie ist leer."),
    ("Waschküche", "Die Waschmaschine in der Waschküche ist seit Tagen defekt."),
    ("Nachbarschaftsfest", "Wir würden gern im Sommer ein Hoffest organisieren."),
]
GREETINGS = ["Sehr geehrte Damen und Herren, ", "Guten Tag, ", "Hallo, ", ""]
FIRMS = [
    "Heizungsbau Krause",
    "Sanitär Schulze",
    "Elektro Becker",
    "Fensterbau Lehmann",
    "Malerbetrieb Wolff",
    "Schädlingsbekämpfung Roth",
]
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"]
REPAIR_REPLIES = [
    "Vielen Dank für Ihre Meldung. Wir haben die Firma {firm} beauftragt, sie meldet sich "
    "bei Ihnen für einen Termin.",
    "Unser Hauswart schaut sich das am {day} an.",
    "Der Handwerker der Firma {firm} kommt am {day} zwischen 8 und 12 Uhr.",
    "Die Reparatur ist beauftragt, die Ersatzteile sind bestellt.",
    "Danke für den Hinweis. Wir haben den Schaden aufgenommen und melden uns.",
]
OFFICE_REPLIES = [
    "Vielen Dank, wir haben Ihre Angaben übernommen.",
    "Die Bescheinigung haben wir Ihnen heute zugeschickt.",
    "Ihre Anfrage haben wir an die Buchhaltung weitergegeben, wir melden uns.",
    "Gern, wir prüfen das und melden uns bis {day}.",
    "Danke für Ihre Nachricht. Wir kümmern uns darum.",
]
QUESTIONS = [
    "Können Sie uns bitte ein Foto schicken?",
    "Wann sind Sie für einen Termin zu Hause?",
    "Bitte teilen Sie uns eine Telefonnummer mit, unter der wir Sie tagsüber erreichen.",
    "Uns fehlt noch eine Unterlage. Können Sie sie bitte nachreichen?",
]
MEMBER_REPLIES = [
    "Danke, ich bin vormittags zu Hause.",
    "Der Handwerker war leider noch nicht da.",
    "Das Problem ist wieder aufgetreten.",
    "Vielen Dank für die schnelle Hilfe!",
    "Das Foto habe ich angehängt.",
    "Der Termin passt mir leider nicht, ginge auch Donnerstag?",
    "Meine Telefonnummer ist 030 5557788.",
]
NOTES = [
    "Auftrag an {firm} erteilt.",
    "Rückruf für {day} vereinbart.",
    "Rechnung liegt vor, an die Buchhaltung weitergeleitet.",
    "Mitglied telefonisch nicht erreicht, Nachricht hinterlassen.",
    "Hauswart informiert.",
    "Wiederholter Schaden, Ursache prüfen lassen.",
]
WITHDRAW_REASONS = ["Hat sich erledigt.", "Der Nachbar hat es repariert.", "", ""]
RATING_COMMENTS = ["Schnell und freundlich, danke!", "Hat etwas gedauert.", "", "", ""]
CITIES = [("Berlin", 10115, 14199), ("Potsdam", 14467, 14482), ("Leipzig", 4103, 4357)]
# The demo's history (demo.history) besides: answers to the office's
# question, the closing word, reopening, a call settled at once.
ANSWERS = [
    "Ich bin ab 15 Uhr zu Hause, Dienstag oder Donnerstag passt gut.",
    "Das Foto habe ich angehängt.",
    "Meine Telefonnummer ist 030 5557788, tagsüber bin ich erreichbar.",
    "Die Unterlage habe ich Ihnen heute per Post geschickt.",
    "Vormittags ist immer jemand da.",
]
DONE_REPLIES = [
    "Die Reparatur ist erledigt. Bitte melden Sie sich, falls noch etwas ist.",
    "Wir haben alles erledigt und schließen Ihr Anliegen.",
    "Erledigt – vielen Dank für Ihre Geduld.",
    "Die Unterlagen sind unterwegs. Damit ist Ihr Anliegen erledigt.",
]
REOPEN_REASONS = [
    "Das Problem ist wieder aufgetreten.",
    "Leider ist es noch nicht behoben, es tropft wieder.",
    "Der Handwerker war da, aber es funktioniert immer noch nicht.",
    "In der Bescheinigung steht ein falsches Datum.",
]
SOLVED_NOTES = [
    "Telefonisch geklärt, nichts weiter zu tun.",
    "Am Telefon beantwortet.",
    "Direkt am Schalter erledigt.",
    "Auskunft gegeben, Mitglied ist zufrieden.",
]
CALLED_BACK = [
    "Mitglied hat zurückgerufen, Termin abgestimmt.",
    "Rückruf erhalten, die fehlenden Angaben sind nachgetragen.",
    "Mitglied war am Schalter und hat die Unterlage abgegeben.",
]


def iban(rng: random.Random) -> str:
    """A German IBAN with valid check digits."""
    bban = f"{rng.randint(10000000, 89999999)}{rng.randint(0, 9999999999):010d}"
    check = 98 - int(bban + "131400") % 97  # D = 13, E = 14
    return f"DE{check:02d}{bban}"


def answers_for(rng, snapshot, slug, created, member_name, places) -> dict:
    """Answers to the form as a member gives them (files and empty optional
    fields left out), in the stored shape (dates ISO, numbers as text).
    `places`: the cooperative's estates as (name after "Wohnanlage", its
    streets), for addresses and a wished-for estate."""
    day = created.date()
    later = day + datetime.timedelta(days=rng.randint(0, 30))
    result: dict = {}
    room = rng.choice(list(ROOM_WORDS))
    for spec in snapshot:
        key, kind = spec["key"], spec["kind"]
        values = [c["value"] for c in spec["choices"]]
        value = None
        if kind == "room":
            value = room
        elif kind == "choice":
            weights = [90, 9, 1] if key == "urgency" else None
            value = rng.choices(values, weights)[0]
        elif kind == "yesno":
            value = "yes" if key in ("sepa_consent", "confirmation") or rng.random() < 0.4 else "no"
        elif kind == "date":
            if key in ("since", "effective_date", "reading_date"):
                value = (day - datetime.timedelta(days=rng.randint(0, 10))).isoformat()
            elif key == "departure":
                arrival = datetime.date.fromisoformat(result["arrival"])
                value = (arrival + datetime.timedelta(days=rng.randint(2, 7))).isoformat()
            elif key == "end_date":
                value = (day + datetime.timedelta(days=rng.randint(90, 150))).isoformat()
            else:
                value = later.isoformat()
            if not spec["required"] and rng.random() < 0.4:
                value = None
        elif kind == "number":
            value = {
                "guests": str(rng.randint(1, 4)),
                "rooms": str(rng.randint(2, 5)),
                "count": str(rng.randint(1, 3)),
                "year": str(day.year - 1),
                "reading": str(rng.randint(100, 99999)),
            }.get(key, str(spec["min"] or "1").split(".")[0])
        elif kind == "iban":
            value = iban(rng)
        elif kind in ("text", "textarea"):
            value = _text(rng, slug, key, room, result, member_name, places)
        if value not in (None, ""):
            result[key] = value
    return result


def _text(rng, slug, key, room, so_far, member_name, places) -> str:
    if slug == "schadensmeldung":
        sentence, rooms = rng.choice(DAMAGES)
        if room not in rooms:
            room = rng.choice(rooms)
            so_far["room"] = room
        parts = [sentence.format(room=ROOM_WORDS[room])]
        parts[0] = parts[0][0].upper() + parts[0][1:]
        if rng.random() < 0.6:
            parts.append(rng.choice(SINCE))
        parts.extend(rng.sample(EXTRAS, rng.choice([0, 1, 1, 2])))
        return " ".join(parts)
    if slug == "allgemein":
        subject, message = rng.choice(GENERAL)
        if key == "subject":
            return subject
        return rng.choice(GREETINGS) + message
    city, low, high = rng.choice(CITIES)
    street = f"{rng.choice(places)[1][0]} {rng.randint(1, 80)}"
    texts = {
        "purpose": lambda: rng.choice(PURPOSES),
        "account_holder": lambda: member_name,
        "new_last_name": lambda: rng.choice(["Schulze", "Kaya", "Nowak", "Brandt", "Lehmann"]),
        "street": lambda: street,
        "address_extra": lambda: rng.choice(["", "", "Hinterhaus", "bei Meyer", "3. OG"]),
        "postcode": lambda: f"{rng.randint(low, high):05d}",
        "city": lambda: city,
        "country": lambda: rng.choice(["", "", "Deutschland"]),
        "estate_wish": lambda: rng.choice(["", "", f"Wohnanlage {rng.choice(places)[0]}"]),
        "new_address": lambda: rng.choice(["", f"{street}, {rng.randint(low, high):05d} {city}"]),
        "handover_phone": lambda: f"0{rng.randint(150, 179)} {rng.randint(1000000, 9999999)}",
        "description": lambda: rng.choice(PERMISSIONS[so_far.get("subject", "other")]),
        "key_kind": lambda: rng.choice(KEY_KINDS),
        "meter_number": lambda: str(rng.randint(10000000, 99999999)),
        "question": lambda: rng.choice(BILL_QUESTIONS),
        "remarks": lambda: rng.choice(
            {"parkplatz": PARKING_REMARKS, "gaestewohnung": GUEST_REMARKS}.get(slug, MOVE_REMARKS)
        ),
    }
    return texts[key]() if key in texts else ""
