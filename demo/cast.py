"""Demo data and the fixed test cast, built by one code path so the demo
and the tests tell the same story.

Cast: member alice (Wohnanlage Nord, Wohnung 2. OG links) and her household
partner bob on one contract; member dave in another estate (the outsider);
handler hanna (Technik), team lead tom, admin ada."""

import datetime
import functools
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.models import User
from accounts.two_factor import recovery_codes_renew
from cooperative.cache import cooperative_cache_clear
from cooperative.models import Building, Cooperative, Estate, FederalState, OpeningHours, Unit
from demo.request_types import tickets_demo_ensure
from members.models import (
    Contract,
    ContractMember,
    Member,
    Salutation,
    Shareholding,
    ShareMovement,
)

DEMO_PASSWORD = "genoportal-demo"

ESTATES = [
    ("WA-01", "Wohnanlage Nord", "Nordring", "10315"),
    ("WA-02", "Wohnanlage Süd", "Südallee", "12347"),
    ("WA-03", "Wohnanlage am Park", "Parkweg", "13055"),
]
FIRST_NAMES = [
    "Anna",
    "Bernd",
    "Christa",
    "Dieter",
    "Elke",
    "Frank",
    "Gisela",
    "Hans",
    "Ingrid",
    "Jürgen",
    "Karin",
    "Lutz",
    "Monika",
    "Norbert",
    "Olga",
    "Peter",
    "Renate",
    "Sabine",
    "Thomas",
    "Ursula",
    "Volker",
    "Waltraud",
    "Yusuf",
    "Zeynep",
    "Mehmet",
    "Aylin",
    "Katarzyna",
    "Piotr",
    "Lena",
    "Jonas",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Yılmaz",
    "Kowalski",
    "Nowak",
    "Öztürk",
    "Weiß",
]
POSITIONS = ["links", "rechts", "Mitte"]
FLOOR_NAMES = {0: "EG", 1: "1. OG", 2: "2. OG", 3: "3. OG", 4: "4. OG", 5: "5. OG"}


@functools.cache
def _demo_password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared demo password once per process.
    return make_password(DEMO_PASSWORD)


@dataclass
class Cast:
    alice: User
    bob: User
    dave: User
    hanna: User
    tom: User
    ada: User


# The office's own texts (German, as entered in the administration).
DEMO_IMPRINT = """Wohnungsgenossenschaft Beispiel eG
Genossenschaftsweg 1
10115 Berlin

Vertreten durch den Vorstand: Petra Muster, Klaus Beispiel
Vorsitzende des Aufsichtsrats: Helga Demo
Genossenschaftsregister: Amtsgericht Berlin-Charlottenburg, GnR 123 B

Telefon: 030 123456-0
E-Mail: service@wg-beispiel.example

Dies ist eine Demo-Installation; alle Angaben sind erfunden."""

DEMO_PRIVACY = """Verantwortlich für die Verarbeitung Ihrer Daten ist die \
Wohnungsgenossenschaft Beispiel eG, Genossenschaftsweg 1, 10115 Berlin.

Wir verarbeiten Ihre Mitglieds- und Vertragsdaten und Ihre Anliegen, um \
Mitgliedschaft und Nutzungsvertrag zu erfüllen (Art. 6 Abs. 1 lit. b DSGVO).

Sie haben das Recht auf Auskunft, Berichtigung, Löschung und Einschränkung \
der Verarbeitung und können sich bei einer Datenschutz-Aufsichtsbehörde beschweren.

Dies ist eine Demo-Installation; der Text ist ein Beispiel."""


def _cooperative() -> Cooperative:
    coop = Cooperative.objects.order_by("pk").first() or Cooperative()
    coop.name = "Wohnungsgenossenschaft Beispiel eG"
    coop.street = "Genossenschaftsweg 1"
    coop.postcode = "10115"
    coop.city = "Berlin"
    coop.phone = "030 123456-0"
    coop.email = "service@wg-beispiel.example"
    coop.emergency_phone = "030 123456-99"
    coop.utility_emergency_phone = "0800 765 43 21"  # the utility's gas and power faults
    coop.federal_state = FederalState.BE
    coop.imprint = DEMO_IMPRINT
    coop.privacy_notice = DEMO_PRIVACY
    # The letters' footer (core.pdf): as the Impressum says.
    coop.register_court = "Amtsgericht Berlin-Charlottenburg"
    coop.register_number = "GnR 123 B"
    coop.board_members = "Petra Muster, Klaus Beispiel"
    coop.supervisory_board_chair = "Helga Demo"
    coop.bank_details = "Beispielbank Berlin · IBAN DE02 1203 0000 0000 2020 51 · BIC BYLADEM1001"
    coop.save()
    if not coop.opening_hours.exists():
        hours = [(0, 9, 16), (1, 9, 18), (2, 9, 13), (3, 9, 18), (4, 9, 13)]
        OpeningHours.objects.bulk_create(
            OpeningHours(
                cooperative=coop,
                weekday=day,
                opens=datetime.time(start),
                closes=datetime.time(end),
            )
            for day, start, end in hours
        )
    return coop


def staff_ensure(email: str, first: str, last: str, group: str, **extra) -> User:
    # The demo password only for a new account (defaults): a rerun keeps a changed one.
    user, _created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first,
            "last_name": last,
            "is_staff": True,
            "password": _demo_password_hash(),
            **extra,
        },
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def authenticator_demo_ensure(user: User) -> tuple[TOTPDevice, list[str]]:
    """`make demo` only (not the test cast): an authenticator app for an
    admin or team lead, so the demo logins work without setting one up.
    The app's key stays across runs; the recovery codes are new each run."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device, recovery_codes_renew(user=user)


def _member_account(member: Member, email: str) -> User:
    user, _created = User.objects.get_or_create(
        email=email, defaults={"member": member, "password": _demo_password_hash()}
    )
    if member.email != email:
        member.email = email
        member.save(update_fields=["email", "updated_at"])
    return user


class _UpdateEach:
    """The update path (`make demo` again on its database): each row found by
    its key and set to the demo's values, one statement or more per row."""

    def update_or_create(self, model: type[models.Model], defaults: dict, **key):
        return model.objects.update_or_create(defaults=defaults, **key)[0]

    def get(self, model: type[models.Model], **lookup):
        return model.objects.get(**lookup)

    def members_add(self, contract: Contract, members: list[Member]) -> None:
        contract.members.add(*members)

    def members_set(self, contract: Contract, members: list[Member]) -> None:
        contract.members.set(members)

    def save(self) -> None:
        pass


class _InsertAll:
    """The path for a database without the housing stock (every test's
    cast, the first `make demo`): the same rows, in the same order, kept in
    memory and inserted at the end with one statement per table (or a few,
    where SQLite's limit on parameters splits a large table)."""

    TABLES = (Estate, Building, Unit, Member, Shareholding, ShareMovement, Contract, ContractMember)

    def __init__(self) -> None:
        self.rows: dict[type[models.Model], list[models.Model]] = {m: [] for m in self.TABLES}

    def update_or_create(self, model: type[models.Model], defaults: dict, **key):
        row = model(**key, **defaults)
        self.rows[model].append(row)
        return row

    def get(self, model: type[models.Model], **lookup):
        # As model.objects.get would: exactly one match.
        [row] = [
            row
            for row in self.rows[model]
            if all(getattr(row, name) == value for name, value in lookup.items())
        ]
        return row

    def members_add(self, contract: Contract, members: list[Member]) -> None:
        self.rows[ContractMember] += [
            ContractMember(contract=contract, member=member) for member in members
        ]

    # A new contract has no members to drop.
    members_set = members_add

    def save(self) -> None:
        # In dependency order; each bulk_create sets the primary keys the
        # next table's foreign keys take from the objects.
        for model in self.TABLES:
            model.objects.bulk_create(self.rows[model])


def _stock_absent() -> bool:
    """No estate, building, unit, member or contract yet, and the database
    returns the keys of rows inserted in bulk (PostgreSQL; SQLite 3.35+)."""
    return connection.features.can_return_rows_from_bulk_insert and not any(
        model.objects.exists() for model in (Estate, Building, Unit, Member, Contract)
    )


@transaction.atomic
def build_demo(*, units_per_building: int = 25, seed: int = 2026) -> Cast:
    """Create or refresh the demo cooperative. Idempotent: keys are the
    estate, unit, member and contract numbers. On a database without the
    housing stock its rows are inserted in bulk (_InsertAll); both paths
    draw the same random numbers in the same loop, so they build the same
    data (tests/test_demo_cast.py)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    roles.roles_ensure()
    _cooperative()
    cooperative_cache_clear()
    ada = staff_ensure("ada@example.org", "Ada", "Admin", roles.ADMIN)
    hanna = staff_ensure("hanna@example.org", "Hanna", "Beispiel", roles.HANDLER)
    tom = staff_ensure("tom@example.org", "Tom", "Teamleiter", roles.TEAM_LEAD)
    rows = _InsertAll() if _stock_absent() else _UpdateEach()

    member_no = 10000
    for e_index, (number, name, street, postcode) in enumerate(ESTATES):
        estate = rows.update_or_create(
            Estate,
            number=number,
            defaults={"name": name, "property_manager": hanna if e_index == 0 else tom},
        )
        for b_index in range(4):
            building = rows.update_or_create(
                Building,
                street=street,
                house_number=str(b_index * 2 + 1),
                postcode=postcode,
                defaults={"estate": estate, "city": "Berlin"},
            )
            for u_index in range(units_per_building):
                floor = u_index // 3
                side = POSITIONS[u_index % 3]
                unit_number = f"{number[-2:]}{b_index + 1:02d}{u_index + 1:03d}"
                unit = rows.update_or_create(
                    Unit,
                    number=unit_number,
                    defaults={
                        "building": building,
                        "floor": floor,
                        "position": f"{FLOOR_NAMES.get(floor, f'{floor}. OG')} {side}",
                        "rooms": Decimal(rng.choice(["1", "2", "2", "3", "3", "4", "2.5"])),
                        "living_area": Decimal(rng.randint(3500, 9800)) / 100,
                    },
                )
                member_no += 1
                joined = datetime.date(rng.randint(1975, 2024), rng.randint(1, 12), 1)
                member = rows.update_or_create(
                    Member,
                    member_number=str(member_no),
                    defaults={
                        "salutation": rng.choice([Salutation.MS, Salutation.MR]),
                        "first_name": rng.choice(FIRST_NAMES),
                        "last_name": rng.choice(LAST_NAMES),
                        "street": f"{building.street} {building.house_number}",
                        "postcode": building.postcode,
                        "city": building.city,
                        "joined_on": joined,
                    },
                )
                rows.update_or_create(
                    Shareholding,
                    member=member,
                    kind=Shareholding.Kind.REQUIRED,
                    defaults={"count": int(unit.rooms) + 1, "nominal_value": Decimal("160.00")},
                )
                contract = rows.update_or_create(
                    Contract,
                    number=f"NV-{unit_number}",
                    defaults={
                        "unit": unit,
                        "start": joined,
                        "monthly_fee": (unit.living_area * Decimal("7.20")).quantize(
                            Decimal("0.01")
                        ),
                    },
                )
                rows.members_add(contract, [member])

    # The cast: fixed names and numbers, placed in the generated stock.
    alice_unit = _cast_unit(rows, "0101900", "Nordring", 2, "2. OG links", "3", "71.40")
    alice_member = _cast_member(
        rows,
        "20001",
        Salutation.MS,
        "Alice",
        "Ahrens",
        alice_unit,
        datetime.date(2012, 4, 1),
        voluntary=3,
    )
    bob_member = _cast_member(
        rows, "20002", Salutation.MR, "Bob", "Ahrens", alice_unit, datetime.date(2015, 9, 1)
    )
    dave_unit = _cast_unit(rows, "0201900", "Südallee", 1, "1. OG rechts", "2", "54.20")
    dave_member = _cast_member(
        rows, "20003", Salutation.MR, "Dave", "Dietrich", dave_unit, datetime.date(2019, 1, 1)
    )
    _share_history(rows, alice_member, ALICE_SHARES)
    _share_history(rows, dave_member, DAVE_SHARES)
    _household(rows, alice_unit, [alice_member, bob_member], datetime.date(2015, 9, 1))
    _household(rows, dave_unit, [dave_member], datetime.date(2019, 1, 1))
    rows.save()

    cast = Cast(
        alice=_member_account(alice_member, "alice@example.org"),
        bob=_member_account(bob_member, "bob@example.org"),
        dave=_member_account(dave_member, "dave@example.org"),
        hanna=hanna,
        tom=tom,
        ada=ada,
    )
    tickets_demo_ensure()
    return cast


def _cast_unit(rows, number, street, floor, position, rooms, area) -> Unit:
    return rows.update_or_create(
        Unit,
        number=number,
        defaults={
            "building": rows.get(Building, street=street, house_number="1"),
            "floor": floor,
            "position": position,
            "rooms": Decimal(rooms),
            "living_area": Decimal(area),
        },
    )


def _cast_member(rows, number, salutation, first, last, unit, joined, voluntary=0) -> Member:
    building = unit.building
    member = rows.update_or_create(
        Member,
        member_number=number,
        defaults={
            "salutation": salutation,
            "first_name": first,
            "last_name": last,
            "street": f"{building.street} {building.house_number}",
            "postcode": building.postcode,
            "city": building.city,
            "phone": "030 5550" + number[-3:],
            "joined_on": joined,
        },
    )
    rows.update_or_create(
        Shareholding,
        member=member,
        kind=Shareholding.Kind.REQUIRED,
        defaults={"count": 2, "nominal_value": Decimal("160.00")},
    )
    if voluntary:
        rows.update_or_create(
            Shareholding,
            member=member,
            kind=Shareholding.Kind.VOLUNTARY,
            defaults={"count": voluntary, "nominal_value": Decimal("160.00")},
        )
    return member


K = ShareMovement.Kind
# Alice's shares as the ERP booked them: two compulsory shares when she
# joined, four voluntary ones in 2018 (paid in part, the rest from two
# dividends credited and a payment), one of them cancelled to the end of
# 2022 and paid out; since then dividends paid out. Today: 2 + 3 shares of
# 160 €, paid up (800 €), as her shareholdings say. Bob has no bookings.
ALICE_SHARES = [
    # date, kind, shares, amount, business year, text
    ("2012-04-01", K.SUBSCRIPTION, 2, "0", 2012, "Beitritt, 2 Pflichtanteile"),
    ("2012-04-16", K.PAYMENT, 0, "320.00", 2012, "Einzahlung Pflichtanteile"),
    ("2018-01-15", K.SUBSCRIPTION, 4, "0", 2018, "4 freiwillige Anteile"),
    ("2018-01-31", K.PAYMENT, 0, "480.00", 2018, "Einzahlung freiwillige Anteile"),
    ("2019-06-28", K.DIVIDEND_CREDITED, 0, "32.00", 2018, "Dividende 4 %"),
    ("2020-06-30", K.DIVIDEND_CREDITED, 0, "38.40", 2019, "Dividende 4 %"),
    ("2021-03-01", K.PAYMENT, 0, "89.60", 2021, "Resteinzahlung"),
    ("2021-06-30", K.DIVIDEND_PAID, 0, "38.40", 2020, "Dividende 4 %"),
    ("2022-06-30", K.DIVIDEND_PAID, 0, "38.40", 2021, "Dividende 4 %"),
    ("2022-12-31", K.CANCELLATION, 1, "0", 2022, "Kündigung 1 freiwilliger Anteil"),
    ("2023-06-30", K.DIVIDEND_PAID, 0, "38.40", 2022, "Dividende 4 %"),
    ("2023-07-31", K.PAYOUT, 0, "160.00", 2023, "Auszahlung gekündigter Anteil"),
    ("2024-06-28", K.DIVIDEND_PAID, 0, "32.00", 2023, "Dividende 4 %"),
    ("2025-06-30", K.DIVIDEND_PAID, 0, "32.00", 2024, "Dividende 4 %"),
    ("2026-06-30", K.DIVIDEND_PAID, 0, "32.00", 2025, "Dividende 4 %"),
]
DAVE_SHARES = [
    ("2019-01-01", K.SUBSCRIPTION, 2, "0", 2019, "Beitritt, 2 Pflichtanteile"),
    ("2019-01-10", K.PAYMENT, 0, "320.00", 2019, "Einzahlung Pflichtanteile"),
]


def _share_history(rows, member: Member, bookings) -> None:
    for number, (day, kind, shares, amount, year, text) in enumerate(bookings, start=1):
        rows.update_or_create(
            ShareMovement,
            reference=f"GA-{member.member_number}-{number:04d}",
            defaults={
                "member": member,
                "booked_on": datetime.date.fromisoformat(day),
                "kind": kind,
                "shares": shares,
                "amount": Decimal(amount),
                "business_year": year,
                "text": text,
            },
        )


def _household(rows, unit: Unit, members: list[Member], start: datetime.date) -> None:
    contract = rows.update_or_create(
        Contract,
        number=f"NV-{unit.number}",
        defaults={
            "unit": unit,
            "start": start,
            "monthly_fee": (unit.living_area * Decimal("7.20")).quantize(Decimal("0.01")),
        },
    )
    rows.members_set(contract, members)
