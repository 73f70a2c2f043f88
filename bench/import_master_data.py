"""Benchmark of `manage.py import_master_data` on realistic ERP exports.

    .venv/bin/python bench/import_master_data.py [--members 10000] [--database-url URL]

Generates units, members, contracts and share ledger files into bench/data/
(fixed seed: German names, ~15 % joint contracts, the members file in
Windows-1252 with CRLF like a Windows ERP writes it, the units file UTF-8
with BOM; every member's bookings: joining, payments, voluntary shares,
the dividends of the last ten years, some cancellations), then times
a first import (everything new), a re-import with ~10 % changed rows and a
re-import of unchanged files, each through the management command.

Default database: a fresh SQLite file bench/data/bench.sqlite3. With
--database-url postgres://postgres@127.0.0.1:5432/genoportal_bench the
database is created if missing and its master-data tables are emptied first,
so the name must contain "bench". Exits 1 if the first import takes longer
than --limit seconds (default 30)."""

import argparse
import datetime
import os
import random
import re
import sys
import time
from io import StringIO
from pathlib import Path

# Run as a script: the project root on the path, for bench.common.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import bench_name, postgres_admin, postgres_fresh

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"

FIRST_NAMES = {
    "Frau": [
        "Anna", "Christa", "Elke", "Gisela", "Ingrid", "Karin", "Monika", "Renate", "Sabine",
        "Ursula", "Waltraud", "Zeynep", "Aylin", "Katarzyna", "Lena", "Jana", "Bärbel",
        "Hannelore", "Dörte", "Frauke", "Jürgine", "Käthe", "Marta",
    ],
    "Herr": [
        "Bernd", "Dieter", "Frank", "Hans", "Jürgen", "Lutz", "Norbert", "Peter", "Thomas",
        "Volker", "Yusuf", "Mehmet", "Piotr", "Jonas", "Björn", "Jörg", "Sören", "Günther",
        "Uwe", "Klaus-Dieter", "Özcan", "Sönke",
    ],
}  # fmt: skip
LAST_NAMES = [
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
    "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann",
    "Hartmann", "Lange", "Yilmaz", "Kowalski", "Nowak", "Öztürk", "Weiß", "Groß",
    "Löffler", "Böhm", "Kühn", "Jäger", "Günther", "Fuß", "Hähnel", "Strauß", "von Bülow",
]  # fmt: skip
STREETS = [
    "Lindenstraße", "Goethestraße", "Schillerweg", "Am Mühlgraben", "Kastanienallee",
    "Fröbelstraße", "Rosenhag", "Birkenweg", "Friedrich-Engels-Ring", "Hölderlinstraße",
    "Märkische Allee", "Straße der Einheit", "Am Wäldchen", "Bürgerpark", "Uferstraße",
    "Grüner Weg", "Kiefernsteig", "Weißenseer Weg", "Lößnitzstraße", "Thälmannplatz",
]  # fmt: skip
CITIES = [("Berlin", 10115, 14199), ("Leipzig", 4103, 4357), ("Dresden", 1067, 1328)]
POSITIONS = ["links", "Mitte", "rechts"]

UNIT_HEADER = (
    "Wohnanlage-Nr;Wohnanlage;Straße;Hausnummer;PLZ;Ort;Wohnungs-Nr;Etage;Lage;Zimmer;Wohnfläche"
)
MEMBER_HEADER = (
    "Mitglieds-Nr;Anrede;Titel;Vorname;Nachname;Straße;PLZ;Ort;E-Mail;Telefon;Sprache;"
    "Eintrittsdatum;Austrittsdatum;Pflichtanteile;Freiwillige Anteile;Anteilswert"
)
CONTRACT_HEADER = "Vertrags-Nr;Wohnungs-Nr;Mitglieds-Nr;Beginn;Ende;Nutzungsgebühr"
LEDGER_HEADER = (
    "Beleg-Nr;Mitglieds-Nr;Buchungsdatum;Vorgang;Anteile;Betrag;Geschäftsjahr;Buchungstext"
)
SHARE_VALUE = 160.0


def german(amount: float) -> str:
    """1234.5 -> "1.234,50", as the ERP writes money and areas."""
    return f"{amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def day(date: datetime.date | None) -> str:
    return f"{date:%d.%m.%Y}" if date else ""


def random_date(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    return datetime.date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))


def generate(count: int, seed: int) -> dict[str, list[list[str]]]:
    """Rows (without header) of the four files for `count` members."""
    rng = random.Random(seed)  # reproducible: the same files every run
    units, members, contracts = [], [], []
    member_no = 100000
    estate_no = 0
    while len(members) < count:
        estate_no += 1
        city, low, high = rng.choice(CITIES)
        street = STREETS[estate_no % len(STREETS)]
        estate_number = f"WA-{estate_no:03d}"
        estate_name = f"Wohnanlage {street} {estate_no}"
        postcode = f"{rng.randint(low, high):05d}"
        for house in range(1, rng.randint(6, 14) + 1):
            house_number = f"{house * 2 - 1}{rng.choice(['', '', '', 'a'])}"
            floors = rng.randint(3, 6)
            for floor in range(floors):
                for side in POSITIONS[: rng.randint(2, 3)]:
                    unit_number = f"{estate_no:03d}{house:02d}{floor}{POSITIONS.index(side)}"
                    rooms = rng.choice(["1", "2", "2", "2,5", "3", "3", "4", "5"])
                    area = rng.uniform(28, 125)
                    units.append(
                        [
                            estate_number,
                            estate_name,
                            street,
                            house_number,
                            postcode,
                            city,
                            unit_number,
                            str(floor),
                            f"{'EG' if floor == 0 else f'{floor}. OG'} {side}",
                            rooms,
                            german(area),
                        ]
                    )
                    if rng.random() < 0.03 or len(members) >= count:
                        continue  # vacant
                    household = 2 if rng.random() < 0.15 and len(members) + 2 <= count else 1
                    start = random_date(rng, 1975, 2025)
                    end = random_date(rng, 2026, 2027) if rng.random() < 0.05 else None
                    fee = german(area * rng.uniform(6.2, 9.8))
                    for _person in range(household):
                        member_no += 1
                        members.append(member_row(rng, member_no, street, postcode, city, start))
                        contracts.append(
                            [
                                f"NV-{unit_number}",
                                unit_number,
                                str(member_no),
                                day(start),
                                day(end),
                                fee,
                            ]
                        )
                        # ~3 % of members hold shares without living here (investing members).
                        if rng.random() < 0.03 and len(members) < count:
                            member_no += 1
                            members.append(
                                member_row(rng, member_no, street, postcode, city, start)
                            )
    ledger = [booking for row in members for booking in ledger_rows(rng, row)]
    return {"units": units, "members": members, "contracts": contracts, "share_ledger": ledger}


def ledger_rows(rng: random.Random, member: list[str]) -> list[list[str]]:
    """A member's bookings as the ERP's member accounting has them: the
    compulsory shares at joining and their payment, voluntary shares for
    some (one of them cancelled and paid out now and then), and a dividend
    of 4 % paid out for each of the last ten years."""
    number, joined = member[0], datetime.datetime.strptime(member[11], "%d.%m.%Y").date()
    required, voluntary = int(member[13]), int(member[14])
    rows: list[list[str]] = []

    def book(when, kind, shares, amount, year, text=""):
        reference = f"GA-{number}-{len(rows) + 1:04d}"
        rows.append([reference, number, day(when), kind, shares, amount, str(year), text])

    book(joined, "Zeichnung", str(required), "", joined.year, "Beitritt")
    book(joined + datetime.timedelta(days=14), "Einzahlung", "", german(required * SHARE_VALUE),
         joined.year, "Pflichtanteile")  # fmt: skip
    held = required
    if voluntary:
        first = max(joined.year, 2000)
        when = random_date(rng, first, max(first, 2024))
        cancelled = 1 if rng.random() < 0.2 else 0
        book(when, "Zeichnung", str(voluntary + cancelled), "", when.year, "freiwillige Anteile")
        book(when + datetime.timedelta(days=10), "Einzahlung", "",
             german((voluntary + cancelled) * SHARE_VALUE), when.year)  # fmt: skip
        held += voluntary + cancelled
        if cancelled:
            end = datetime.date(max(when.year + 1, 2022), 12, 31)
            book(end, "Kündigung", "1", "", end.year, "Kündigung freiwilliger Anteil")
            book(end + datetime.timedelta(days=200), "Auszahlung", "", german(SHARE_VALUE),
                 end.year + 1)  # fmt: skip
            held -= 1
    for year in range(max(joined.year, 2015), 2025):
        book(datetime.date(year + 1, 6, 30), "Dividendenauszahlung", "",
             german(held * SHARE_VALUE * 0.04), year, "Dividende 4 %")  # fmt: skip
    return rows


def member_row(rng, number, street, postcode, city, joined) -> list[str]:
    salutation = rng.choice(["Frau", "Herr", "Frau", "Herr", ""])
    first = rng.choice(FIRST_NAMES[salutation or rng.choice(["Frau", "Herr"])])
    last = rng.choice(LAST_NAMES)
    plain = first.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    email = f"{plain}.{number}@example.org" if rng.random() < 0.6 else ""
    required = rng.randint(1, 5)
    return [
        str(number),
        salutation,
        rng.choice(["", "", "", "", "", "", "", "", "Dr.", "Prof. Dr."]),
        first,
        last,
        f"{street} {rng.randint(1, 40)}",
        postcode,
        city,
        email,
        f"0{rng.randint(30, 399)} {rng.randint(100000, 9999999)}" if rng.random() < 0.7 else "",
        rng.choice(["de", "de", "de", "de", "", "en"]),
        day(joined),
        "",
        str(required),
        str(rng.choice([0, 0, 0, 1, 2, 5])),
        "160,00",
    ]


def changed(rows: dict[str, list[list[str]]], seed: int) -> dict[str, list[list[str]]]:
    """Copies with ~10 % of the rows of each file changed as a month of real
    life changes them: fees, areas, phone numbers, names, shares, leavers."""
    rng = random.Random(seed + 1)
    units = [row[:] for row in rows["units"]]
    members = [row[:] for row in rows["members"]]
    contracts = [row[:] for row in rows["contracts"]]
    for row in rng.sample(units, len(units) // 10):
        row[10] = german(float(row[10].replace(".", "").replace(",", ".")) + 0.5)
    for row in rng.sample(members, len(members) // 10):
        what = rng.randrange(4)
        if what == 0:
            row[9] = f"0{rng.randint(30, 399)} {rng.randint(100000, 9999999)}"
        elif what == 1:
            row[4] = rng.choice(LAST_NAMES) + "-" + row[4]
        elif what == 2:
            row[14] = str(int(row[14]) + 1)
        else:
            row[12] = "31.12.2026"
    by_number: dict[str, list[list[str]]] = {}
    for row in contracts:
        by_number.setdefault(row[0], []).append(row)
    for number in rng.sample(sorted(by_number), len(by_number) // 10):
        fee = float(by_number[number][0][5].replace(".", "").replace(",", ".")) * 1.03
        for row in by_number[number]:
            row[5] = german(fee)
    # A month of member accounting: corrected booking texts, and the new
    # year's dividend for a tenth of the members.
    ledger = [row[:] for row in rows["share_ledger"]]
    for row in rng.sample(ledger, len(ledger) // 20):
        row[7] = (row[7] + " (berichtigt)").strip()
    for member in rng.sample(members, len(members) // 10):
        ledger.append([f"GA-{member[0]}-2026", member[0], "30.06.2026", "Dividendenauszahlung",
                       "", german(int(member[13]) * SHARE_VALUE * 0.04), "2025", "Dividende 4 %"])  # fmt: skip
    return {"units": units, "members": members, "contracts": contracts, "share_ledger": ledger}


def write(rows: dict[str, list[list[str]]], suffix: str) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, header, encoding, newline in (
        ("units", UNIT_HEADER, "utf-8-sig", "\n"),
        ("members", MEMBER_HEADER, "cp1252", "\r\n"),
        ("contracts", CONTRACT_HEADER, "utf-8", "\n"),
        ("share_ledger", LEDGER_HEADER, "cp1252", "\r\n"),
    ):
        path = DATA / f"{kind}{suffix}.csv"
        lines = [header] + [";".join(row) for row in rows[kind]]
        path.write_bytes((newline.join(lines) + newline).encode(encoding))
        files[kind] = path
    return files


def prepare_database(url: str | None) -> str:
    """Point Django at an empty benchmark database; returns a label for it."""
    if url is None:
        path = DATA / "bench.sqlite3"
        for stale in DATA.glob("bench.sqlite3*"):
            stale.unlink()
        url = f"sqlite:///{path}"
    elif url.startswith(("postgres://", "postgresql://")):
        # Created when missing, kept otherwise: the tables are emptied below.
        name = bench_name(url)
        with postgres_admin(url) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not exists:
                postgres_fresh(url)
    else:
        sys.exit("--database-url must be postgres://… (default: a fresh SQLite file)")
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from cooperative.models import Building, Estate, Unit
    from members.models import Contract, Member, Shareholding, ShareMovement

    for model in (
        Contract.members.through,
        Contract,
        ShareMovement,
        Shareholding,
        Member,
        Unit,
        Building,
    ):
        model.objects.all().delete()
    Estate.objects.all().delete()
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def timed_import(files: dict[str, Path]) -> tuple[float, dict[str, int]]:
    from django.core.management import call_command
    from django.utils import translation

    output = StringIO()
    started = time.perf_counter()
    with translation.override("en"):
        call_command("import_master_data", stdout=output, **{k: str(v) for k, v in files.items()})
    seconds = time.perf_counter() - started
    totals = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    for line in output.getvalue().splitlines():
        match = re.fullmatch(r"[a-z ]+?\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line.strip())
        if match:
            for key, figure in zip(totals, match.groups(), strict=True):
                totals[key] += int(figure)
    return seconds, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database-url", help="postgres://… (default: fresh SQLite file)")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds for the first import")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    rows = generate(args.members, args.seed)
    first = write(rows, "")
    second = write(changed(rows, args.seed), "_changed")
    database = prepare_database(args.database_url)

    results = [
        ("first import (all new)", *timed_import(first)),
        ("re-import, ~10 % changed", *timed_import(second)),
        ("re-import, unchanged", *timed_import(second)),
    ]

    from django.db.models import Count

    from members.models import Contract, Member

    contracts = Contract.objects.count()
    joint = Contract.objects.annotate(n=Count("members")).filter(n__gt=1).count()
    print(
        f"{args.members:,} members, {len(rows['units']):,} units, {contracts:,} contracts "
        f"({joint:,} joint), {len(rows['share_ledger']):,} share bookings on {database}"
    )
    print(f"{'run':<26}{'seconds':>9}{'created':>10}{'updated':>10}{'unchanged':>11}{'deleted':>9}")
    for label, seconds, totals in results:
        print(
            f"{label:<26}{seconds:>9.2f}{totals['created']:>10,}{totals['updated']:>10,}"
            f"{totals['unchanged']:>11,}{totals['deleted']:>9,}"
        )
    if Member.objects.count() != args.members:
        print(f"FAIL: {Member.objects.count()} members in the database, expected {args.members}")
        return 1
    if results[0][1] > args.limit:
        print(f"FAIL: the first import took longer than {args.limit:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
