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
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import roles
from accounts.models import User
from accounts.two_factor import recovery_codes_renew
from cooperative.cache import cooperative_cache_clear
from cooperative.models import Building, Cooperative, Estate, FederalState, OpeningHours, Unit
from demo.request_types import tickets_demo_ensure
from members.models import Contract, Member, Salutation, Shareholding

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
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first, "last_name": last, "is_staff": True, **extra}
    )
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
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
    user, created = User.objects.get_or_create(email=email, defaults={"member": member})
    if created:
        user.password = _demo_password_hash()
        user.save(update_fields=["password"])
    if member.email != email:
        member.email = email
        member.save(update_fields=["email", "updated_at"])
    return user


@transaction.atomic
def build_demo(*, units_per_building: int = 25, seed: int = 2026) -> Cast:
    """Create or refresh the demo cooperative. Idempotent: keys are the
    estate, unit, member and contract numbers."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    roles.roles_ensure()
    _cooperative()
    cooperative_cache_clear()
    ada = staff_ensure("ada@example.org", "Ada", "Admin", roles.ADMIN)
    hanna = staff_ensure("hanna@example.org", "Hanna", "Beispiel", roles.HANDLER)
    tom = staff_ensure("tom@example.org", "Tom", "Teamleiter", roles.TEAM_LEAD)

    member_no = 10000
    for e_index, (number, name, street, postcode) in enumerate(ESTATES):
        estate, _ = Estate.objects.update_or_create(
            number=number,
            defaults={"name": name, "property_manager": hanna if e_index == 0 else tom},
        )
        for b_index in range(4):
            building, _ = Building.objects.update_or_create(
                street=street,
                house_number=str(b_index * 2 + 1),
                postcode=postcode,
                defaults={"estate": estate, "city": "Berlin"},
            )
            for u_index in range(units_per_building):
                floor = u_index // 3
                side = POSITIONS[u_index % 3]
                unit_number = f"{number[-2:]}{b_index + 1:02d}{u_index + 1:03d}"
                unit, _ = Unit.objects.update_or_create(
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
                member, _ = Member.objects.update_or_create(
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
                Shareholding.objects.update_or_create(
                    member=member,
                    kind=Shareholding.Kind.REQUIRED,
                    defaults={"count": int(unit.rooms) + 1, "nominal_value": Decimal("160.00")},
                )
                contract, _ = Contract.objects.update_or_create(
                    number=f"NV-{unit_number}",
                    defaults={
                        "unit": unit,
                        "start": joined,
                        "monthly_fee": (unit.living_area * Decimal("7.20")).quantize(
                            Decimal("0.01")
                        ),
                    },
                )
                contract.members.add(member)

    # The cast: fixed names and numbers, placed in the generated stock.
    alice_unit = _cast_unit("0101900", "Nordring", 2, "2. OG links", "3", "71.40")
    alice_member = _cast_member(
        "20001",
        Salutation.MS,
        "Alice",
        "Ahrens",
        alice_unit,
        datetime.date(2012, 4, 1),
        voluntary=3,
    )
    bob_member = _cast_member(
        "20002", Salutation.MR, "Bob", "Ahrens", alice_unit, datetime.date(2015, 9, 1)
    )
    dave_unit = _cast_unit("0201900", "Südallee", 1, "1. OG rechts", "2", "54.20")
    dave_member = _cast_member(
        "20003", Salutation.MR, "Dave", "Dietrich", dave_unit, datetime.date(2019, 1, 1)
    )
    _household(alice_unit, [alice_member, bob_member], datetime.date(2015, 9, 1))
    _household(dave_unit, [dave_member], datetime.date(2019, 1, 1))

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


def _cast_unit(number, street, floor, position, rooms, area) -> Unit:
    unit, _ = Unit.objects.update_or_create(
        number=number,
        defaults={
            "building": Building.objects.get(street=street, house_number="1"),
            "floor": floor,
            "position": position,
            "rooms": Decimal(rooms),
            "living_area": Decimal(area),
        },
    )
    return unit


def _cast_member(number, salutation, first, last, unit, joined, voluntary=0) -> Member:
    building = unit.building
    member, _ = Member.objects.update_or_create(
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
    Shareholding.objects.update_or_create(
        member=member,
        kind=Shareholding.Kind.REQUIRED,
        defaults={"count": 2, "nominal_value": Decimal("160.00")},
    )
    if voluntary:
        Shareholding.objects.update_or_create(
            member=member,
            kind=Shareholding.Kind.VOLUNTARY,
            defaults={"count": voluntary, "nominal_value": Decimal("160.00")},
        )
    return member


def _household(unit: Unit, members: list[Member], start: datetime.date) -> None:
    contract, _ = Contract.objects.update_or_create(
        number=f"NV-{unit.number}",
        defaults={
            "unit": unit,
            "start": start,
            "monthly_fee": (unit.living_area * Decimal("7.20")).quantize(Decimal("0.01")),
        },
    )
    contract.members.set(members)
