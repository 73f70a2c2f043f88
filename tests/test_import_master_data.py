"""manage.py import_master_data: the ERP's CSV exports into estates, buildings,
units, members, shares and contracts — all or nothing, re-runnable."""

import datetime
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from cooperative.models import Building, Estate, Unit
from members.importer import csv_decode, decimal_parse
from members.management.commands.import_master_data import Command
from members.models import Contract, Member, Salutation, Shareholding

DATA = Path(__file__).parent / "data" / "import"
GOOD = {
    "units": DATA / "units.csv",
    "members": DATA / "members.csv",
    "contracts": DATA / "contracts.csv",
}


def run(*, dry_run=False, encoding=None, **files) -> str:
    """The command's stdout. English messages: the report's wording is what
    the tests read, whatever the German catalogue says later."""
    stdout, stderr = StringIO(), StringIO()
    options = {kind: str(path) for kind, path in files.items()}
    if encoding:
        options["encoding"] = encoding
    with translation.override("en"):
        call_command("import_master_data", dry_run=dry_run, stdout=stdout, stderr=stderr, **options)
    # No progress bar and no warnings when stderr is not a terminal.
    assert stderr.getvalue() == ""
    return stdout.getvalue()


def run_failing(*, dry_run=False, encoding=None, **files) -> str:
    """The report on stderr plus the final message, of a run that must fail."""
    stdout, stderr = StringIO(), StringIO()
    options = {kind: str(path) for kind, path in files.items()}
    if encoding:
        options["encoding"] = encoding
    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command("import_master_data", dry_run=dry_run, stdout=stdout, stderr=stderr, **options)
    assert stdout.getvalue() == ""
    return stderr.getvalue() + str(failure.value)


def summary(output: str) -> dict[str, tuple[int, int, int, int]]:
    """{entity: (created, updated, unchanged, deleted)} from the summary table."""
    rows = {}
    for line in output.splitlines():
        match = re.fullmatch(r"([a-z ]+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", line.strip())
        if match:
            rows[match[1]] = tuple(int(n) for n in match.groups()[1:])
    return rows


def snapshot() -> dict[str, list]:
    """Everything the import may touch, to prove a failed run left it alone."""
    return {
        "estates": sorted(Estate.objects.values_list("number", "name", "updated_at")),
        "buildings": sorted(
            Building.objects.values_list(
                "street", "house_number", "postcode", "city", "estate__number", "updated_at"
            )
        ),
        "units": sorted(
            Unit.objects.values_list(
                "number", "building_id", "floor", "position", "rooms", "living_area", "updated_at"
            )
        ),
        "members": sorted(
            Member.objects.values_list(
                "member_number",
                "salutation",
                "title",
                "first_name",
                "last_name",
                "street",
                "postcode",
                "city",
                "email",
                "phone",
                "preferred_language",
                "joined_on",
                "left_on",
                "updated_at",
            )
        ),
        "shares": sorted(
            Shareholding.objects.values_list(
                "member__member_number", "kind", "count", "nominal_value", "updated_at"
            )
        ),
        "contracts": sorted(
            Contract.objects.values_list(
                "number", "unit__number", "start", "end", "monthly_fee", "updated_at"
            )
        ),
        "households": sorted(
            Contract.members.through.objects.values_list(
                "contract__number", "member__member_number"
            )
        ),
    }


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def edited(tmp_path: Path, kind: str, *replacements: tuple[str, str]) -> Path:
    """A copy of a good fixture file with some text replaced."""
    text = GOOD[kind].read_bytes().decode("utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return write(tmp_path, f"{kind}.csv", text)


def household(number: str) -> set[str]:
    return set(Contract.objects.get(number=number).members.values_list("member_number", flat=True))


# --- Good files ---------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_units_members_and_contracts():
    output = run(**GOOD)

    assert summary(output) == {
        "estates": (2, 0, 0, 0),
        "buildings": (3, 0, 0, 0),
        "units": (4, 0, 0, 0),
        "members": (3, 0, 0, 0),
        "shareholdings": (4, 0, 0, 0),
        "contracts": (2, 0, 0, 0),
        "household links": (3, 0, 0, 0),
    }
    assert "Import complete." in output
    assert sorted(Estate.objects.values_list("number", "name")) == [
        ("WA-10", "Wohnanlage Lindenhof"),
        ("WA-11", "Wohnanlage Am Mühlgraben"),
    ]
    assert sorted(
        Building.objects.values_list("estate__number", "street", "house_number", "postcode", "city")
    ) == [
        ("WA-10", "Lindenstraße", "4", "01067", "Dresden"),
        ("WA-10", "Lindenstraße", "6", "01067", "Dresden"),
        ("WA-11", "Mühlgrabenweg", "12a", "04109", "Leipzig"),
    ]
    unit = Unit.objects.select_related("building").get(number="1006001")
    assert (unit.building.address_line, unit.floor, unit.position) == (
        "Lindenstraße 6",
        1,
        "1. OG links",
    )
    assert (unit.rooms, unit.living_area) == (Decimal("2.5"), Decimal("63.00"))
    assert Unit.objects.get(number="1112001").floor == -1

    jana = Member.objects.get(member_number="30001")
    assert (jana.salutation, jana.title, jana.first_name, jana.last_name) == (
        Salutation.MS,
        "",
        "Jana",
        "Müller",
    )
    assert (jana.street, jana.postcode, jana.city) == ("Lindenstraße 4", "01067", "Dresden")
    assert (jana.email, jana.phone, jana.preferred_language) == (
        "jana.mueller@example.org",
        "0351 123456",
        "de",
    )
    assert (jana.joined_on, jana.left_on) == (datetime.date(2012, 4, 1), None)
    jorg = Member.objects.get(member_number="30002")
    assert (jorg.salutation, jorg.title, jorg.full_name, jorg.preferred_language) == (
        Salutation.MR,
        "Dr.",
        "Dr. Jörg Müller",
        "en",
    )
    soren = Member.objects.get(member_number="30003")
    assert (soren.salutation, soren.preferred_language, soren.left_on) == (
        Salutation.NONE,
        "de",
        datetime.date(2025, 12, 31),
    )
    assert sorted(
        Shareholding.objects.values_list("member__member_number", "kind", "count", "nominal_value")
    ) == [
        ("30001", "required", 2, Decimal("160.00")),
        ("30001", "voluntary", 3, Decimal("160.00")),
        ("30002", "required", 1, Decimal("160.00")),
        ("30003", "required", 2, Decimal("160.00")),
    ]

    joint = Contract.objects.get(number="NV-1004001")
    assert (joint.unit.number, joint.start, joint.end, joint.monthly_fee) == (
        "1004001",
        datetime.date(2015, 9, 1),
        None,
        Decimal("1234.56"),
    )
    assert household("NV-1004001") == {"30001", "30002"}
    ended = Contract.objects.get(number="NV-1112001")
    assert (ended.end, ended.monthly_fee) == (datetime.date(2025, 12, 31), Decimal("230.40"))
    assert household("NV-1112001") == {"30003"}


@pytest.mark.django_db
def test_it_reads_windows_1252_with_umlauts():
    run(members=DATA / "members_cp1252.csv")

    assert sorted(Member.objects.values_list("first_name", "last_name", "street")) == [
        ("Jana", "Müller", "Lindenstraße 4"),
        ("Jörg", "Müller", "Lindenstraße 4"),
        ("Sören", "Weiß", "Mühlgrabenweg 12a"),
    ]


@pytest.mark.django_db
def test_it_reads_windows_1252_when_told_so():
    run(members=DATA / "members_cp1252.csv", encoding="cp1252")

    assert Member.objects.get(member_number="30003").last_name == "Weiß"


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["auto", "utf-8"])
def test_it_reads_utf8_with_a_byte_order_mark(tmp_path, encoding):
    text = "\ufeff" + GOOD["units"].read_text(encoding="utf-8")
    run(units=write(tmp_path, "units.csv", text), encoding=encoding)

    assert Estate.objects.get(number="WA-11").name == "Wohnanlage Am Mühlgraben"
    assert Building.objects.filter(street="Lindenstraße").count() == 2


@pytest.mark.django_db
def test_it_ignores_unknown_columns_blank_lines_and_an_excel_separator_line(tmp_path):
    text = GOOD["units"].read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    extra = [f"{row};irgendwas" for row in rows]
    path = write(
        tmp_path,
        "units.csv",
        "sep=;\n"
        + header
        + ";Baujahr\n"
        + "\n".join(extra[:2])
        + "\n\n;;;\n"
        + "\n".join(extra[2:]),
    )
    output = run(units=path)

    assert summary(output)["units"] == (4, 0, 0, 0)


@pytest.mark.django_db
def test_it_changes_nothing_when_run_twice():
    run(**GOOD)
    before = snapshot()

    output = run(**GOOD)

    assert summary(output) == {
        "estates": (0, 0, 2, 0),
        "buildings": (0, 0, 3, 0),
        "units": (0, 0, 4, 0),
        "members": (0, 0, 3, 0),
        "shareholdings": (0, 0, 4, 0),
        "contracts": (0, 0, 2, 0),
        "household links": (0, 0, 3, 0),
    }
    assert snapshot() == before  # updated_at included: nothing was even touched


@pytest.mark.django_db
def test_it_updates_changed_rows_by_number_without_duplicates(tmp_path):
    run(**GOOD)
    unchanged_member = Member.objects.get(member_number="30003").updated_at

    units = edited(
        tmp_path,
        "units",
        ("Wohnanlage Am Mühlgraben", "Wohnanlage Mühlgraben"),
        ("1004002;0;EG rechts;2;54,30", "1004002;0;EG rechts;2;54,80"),
    )
    members = edited(
        tmp_path,
        "members",
        ("Jana;Müller", "Jana;Müller-Lüdenscheidt"),
        ("01.04.2012;;2;3;160,00", "01.04.2012;;2;0;160,00"),
        ("15.09.2015;;1;0", "15.09.2015;30.06.2026;1;0"),
    )
    contracts = edited(
        tmp_path,
        "contracts",
        ("NV-1004001;1004001;30002;01.09.2015;;1.234,56;\n", ""),
        ("31.12.2025;230,40", "31.12.2025;245,90"),
    )
    output = run(units=units, members=members, contracts=contracts)

    assert summary(output) == {
        "estates": (0, 1, 1, 0),
        "buildings": (0, 0, 3, 0),
        "units": (0, 1, 3, 0),
        "members": (0, 2, 1, 0),
        "shareholdings": (0, 0, 3, 1),
        "contracts": (0, 2, 0, 0),
        "household links": (0, 0, 2, 1),
    }
    assert (Estate.objects.count(), Building.objects.count(), Unit.objects.count()) == (2, 3, 4)
    assert (Member.objects.count(), Contract.objects.count()) == (3, 2)
    assert Estate.objects.get(number="WA-11").name == "Wohnanlage Mühlgraben"
    assert Unit.objects.get(number="1004002").living_area == Decimal("54.80")
    assert Member.objects.get(member_number="30001").last_name == "Müller-Lüdenscheidt"
    assert Member.objects.get(member_number="30002").left_on == datetime.date(2026, 6, 30)
    assert Member.objects.get(member_number="30003").updated_at == unchanged_member
    # Voluntary shares 0: that shareholding is gone, the required one stays.
    assert list(
        Shareholding.objects.filter(member__member_number="30001").values_list("kind", "count")
    ) == [("required", 2)]
    # The file's household replaces the contract's.
    assert household("NV-1004001") == {"30001"}
    assert Contract.objects.get(number="NV-1112001").monthly_fee == Decimal("245.90")


@pytest.mark.django_db
def test_it_moves_a_household_onto_existing_units_and_members(cast, tmp_path):
    # Dave's contract gets alice as a second member; both exist only in the database.
    contracts = write(
        tmp_path,
        "contracts.csv",
        "Vertrags-Nr;Wohnungs-Nr;Mitglieds-Nr;Beginn;Ende;Nutzungsgebühr\n"
        "NV-0201900;0201900;20003;01.01.2019;;390,24\n"
        "NV-0201900;0201900;20001;01.01.2019;;390,24\n",
    )
    output = run(contracts=contracts)

    assert summary(output)["contracts"] == (0, 1, 0, 0)
    assert summary(output)["household links"] == (1, 0, 1, 0)
    assert household("NV-0201900") == {"20003", "20001"}
    assert household("NV-0101900") == {"20001", "20002"}  # alice keeps her own contract


@pytest.mark.django_db
def test_it_keeps_contact_details_that_members_maintain_in_the_portal(cast, tmp_path):
    members = write(
        tmp_path,
        "members.csv",
        (DATA / "members.csv").read_text(encoding="utf-8").splitlines()[0]
        + "\n20001;Frau;;Alice;Ahrens-Brandt;Nordring 1;10315;Berlin;alt@example.org;"
        "030 999;en;01.04.2012;;2;3;160,00\n",
    )
    run(members=members)

    alice = Member.objects.get(member_number="20001")
    assert alice.last_name == "Ahrens-Brandt"
    # She confirmed this address and chose her language in the portal.
    assert (alice.email, alice.phone, alice.preferred_language) == (
        "alice@example.org",
        "030 5550001",
        "de",
    )


# --- Bad files: every problem reported, nothing imported -----------------------


@pytest.mark.django_db
def test_it_reports_every_bad_unit_row_and_imports_nothing():
    report = run_failing(units=DATA / "units_bad.csv", members=GOOD["members"])

    assert report.splitlines() == [
        "units_bad.csv, line 3: PLZ '1067' is not a German postcode (five digits)",
        "units_bad.csv, line 4: Wohnfläche '63.00' is not a number in German notation"
        " (e.g. 1.234,56)",
        "units_bad.csv, line 5: Zimmer '-2' must not be negative",
        "units_bad.csv, line 6: Wohnungs-Nr '1004001' appears more than once (first in line 2)",
        "units_bad.csv, line 7: Etage 'EG' is not a whole number",
        "units_bad.csv, line 8: Wohnanlage-Nr 'WA-10' is called 'Lindenhof' here but"
        " 'Wohnanlage Lindenhof' in line 2",
        "units_bad.csv, line 9: Wohnungs-Nr is empty but required",
        "units_bad.csv, line 10: Zimmer '2,55' has more than 1 decimal place",
        "units_bad.csv, line 11: the building Mühlgrabenweg 12a, 04109 belongs to"
        " Wohnanlage-Nr 'WA-11' in Leipzig in line 9, here to 'WA-12' in Leipzig",
        "9 problems found; nothing was imported.",
    ]
    # The good members file was not imported either: all or nothing.
    assert snapshot() == {key: [] for key in snapshot()}


@pytest.mark.django_db
def test_it_reports_every_bad_member_row_and_changes_nothing():
    run(**GOOD)
    before = snapshot()

    report = run_failing(members=DATA / "members_bad.csv")

    assert report.splitlines() == [
        "members_bad.csv, line 3: Eintrittsdatum '31.02.2020' is not a valid date (DD.MM.YYYY)",
        "members_bad.csv, line 4: E-Mail 'anke.schmidt@' is not a valid e-mail address",
        "members_bad.csv, line 5: Anrede 'Firma' is not allowed (allowed: Frau, Herr or empty)",
        "members_bad.csv, line 6: Sprache 'fr' is not allowed (allowed: de, en or empty)",
        "members_bad.csv, line 7: Austrittsdatum '31.12.2018' is before Eintrittsdatum"
        " '01.01.2019'",
        "members_bad.csv, line 8: Mitglieds-Nr '30001' appears more than once (first in line 2)",
        "members_bad.csv, line 9: Pflichtanteile 'zwei' is not a whole number",
        "members_bad.csv, line 10: Freiwillige Anteile '-1' must not be negative",
        "members_bad.csv, line 11: Anteilswert '160.00' is not a number in German notation"
        " (e.g. 1.234,56)",
        "members_bad.csv, line 12: Nachname is empty but required",
        "members_bad.csv, line 13: the line has 14 fields but the header has 16"
        " (a missing or unquoted ';'?)",
        "11 problems found; nothing was imported.",
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_it_reports_conflicting_contract_rows_and_unknown_references():
    run(units=GOOD["units"], members=GOOD["members"])
    before = snapshot()

    report = run_failing(contracts=DATA / "contracts_bad.csv")

    assert report.splitlines() == [
        "contracts_bad.csv, line 3: Vertrags-Nr 'NV-1004001': Nutzungsgebühr '621,00' differs"
        " from line 2 ('612,00')",
        "contracts_bad.csv, line 4: Wohnungs-Nr '9999999' exists neither in the database"
        " nor in the import",
        "contracts_bad.csv, line 5: Mitglieds-Nr '39999' exists neither in the database"
        " nor in the import",
        "contracts_bad.csv, line 6: Ende '31.12.2018' is before Beginn '01.01.2019'",
        "contracts_bad.csv, line 7: Mitglieds-Nr '30003' is listed twice for Vertrags-Nr"
        " 'NV-1004002' (first in line 4)",
        "5 problems found; nothing was imported.",
    ]
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "old", "new"),
    [
        ("Beginn", "01.09.2015;;1.234,56;\n", "01.10.2015;;1.234,56;\n"),
        ("Ende", "01.09.2015;;1.234,56;\n", "01.09.2015;31.12.2030;1.234,56;\n"),
        ("Wohnungs-Nr", "1004001;30002", "1004002;30002"),
    ],
)
def test_it_reports_household_rows_that_disagree(tmp_path, column, old, new):
    contracts = edited(tmp_path, "contracts", (old, new))

    report = run_failing(units=GOOD["units"], members=GOOD["members"], contracts=contracts)

    assert f"contracts.csv, line 3: Vertrags-Nr 'NV-1004001': {column} '" in report
    assert "differs from line 2" in report
    assert "1 problem found" in report
    assert Contract.objects.count() == 0


@pytest.mark.django_db
def test_it_accepts_household_rows_that_write_the_same_fee_differently(tmp_path):
    contracts = edited(
        tmp_path, "contracts", ("30002;01.09.2015;;1.234,56", "30002;01.09.2015;;1234,560")
    )
    run(units=GOOD["units"], members=GOOD["members"], contracts=contracts)

    assert household("NV-1004001") == {"30001", "30002"}


@pytest.mark.django_db
def test_it_reports_a_broken_member_once_not_again_for_its_contract(tmp_path):
    members = edited(tmp_path, "members", ("30003;;;Sören;Weiß", "30003;;;Sören;"))

    report = run_failing(units=GOOD["units"], members=members, contracts=GOOD["contracts"])

    assert report.splitlines() == [
        "members.csv, line 4: Nachname is empty but required",
        "1 problem found; nothing was imported.",
    ]


@pytest.mark.django_db
def test_it_requires_a_share_value_when_the_member_holds_shares(tmp_path):
    members = edited(tmp_path, "members", ("01.04.2012;;2;3;160,00", "01.04.2012;;2;3;"))

    report = run_failing(members=members)

    assert (
        "members.csv, line 2: Anteilswert must be greater than 0 when the member holds shares"
        in report
    )


@pytest.mark.django_db
def test_it_reports_values_longer_than_the_database_allows(tmp_path):
    units = edited(tmp_path, "units", (";1112001;", ";" + "1" * 31 + ";"))

    report = run_failing(units=units)

    assert f"units.csv, line 5: Wohnungs-Nr '{'1' * 31}' is longer than 30 characters" in report


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("99,95", "Zimmer '99,95' has more than 1 decimal place"),
        ("100", "Zimmer '100' is too large"),
        ("2.5", "Zimmer '2.5' is not a number in German notation (e.g. 1.234,56)"),
        ("", "Zimmer is empty but required"),
    ],
)
def test_it_reports_bad_decimals(tmp_path, value, reason):
    units = edited(tmp_path, "units", ("1. OG links;2,5;", f"1. OG links;{value};"))

    report = run_failing(units=units)

    assert f"units.csv, line 4: {reason}" in report
    assert Unit.objects.count() == 0


@pytest.mark.django_db
def test_it_counts_physical_lines_across_quoted_line_breaks(tmp_path):
    contracts = write(
        tmp_path,
        "contracts.csv",
        "Vertrags-Nr;Wohnungs-Nr;Mitglieds-Nr;Beginn;Ende;Nutzungsgebühr;Bemerkung\n"
        'NV-1004001;1004001;30001;01.09.2015;;612,00;"Mieter wünscht\nRückruf"\n'
        "NV-1112001;1112001;30003;1.13.2019;;230,40;\n",
    )

    report = run_failing(units=GOOD["units"], members=GOOD["members"], contracts=contracts)

    assert report.splitlines()[0] == (
        "contracts.csv, line 4: Beginn '1.13.2019' is not a valid date (DD.MM.YYYY)"
    )


@pytest.mark.django_db
def test_it_names_missing_columns():
    report = run_failing(units=GOOD["units"], members=DATA / "members_missing_columns.csv")

    assert report.splitlines()[0].startswith(
        "members_missing_columns.csv, line 1: required columns 'Eintrittsdatum', 'Anteilswert'"
        " are missing (the header has: Mitglieds-Nr; Anrede;"
    )
    assert Estate.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_utf16_and_names_the_file():
    report = run_failing(members=DATA / "members_utf16.csv")

    assert report.splitlines() == [
        "members_utf16.csv: the file contains NUL bytes and is not a text file in UTF-8 or"
        " Windows-1252 (perhaps UTF-16?). Export it as CSV in UTF-8 or Windows-1252.",
        "1 problem found; nothing was imported.",
    ]
    assert Member.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_bytes_that_are_neither_utf8_nor_windows_1252(tmp_path):
    # 0x81 is undefined in Windows-1252 and invalid on its own in UTF-8.
    data = GOOD["units"].read_bytes().replace("Mühlgrabenweg".encode(), b"M\x81hlgrabenweg")
    path = tmp_path / "units.csv"
    path.write_bytes(data)

    report = run_failing(units=path)

    assert report.splitlines()[0] == (
        "units.csv, line 5: the file is neither UTF-8 nor Windows-1252 (byte 0x81)."
        " Export it as CSV in UTF-8 or Windows-1252."
    )
    assert Unit.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_windows_1252_when_told_utf8():
    report = run_failing(members=DATA / "members_cp1252.csv", encoding="utf-8")

    assert report.splitlines()[0] == (
        "members_cp1252.csv, line 1: byte 0xDF is not valid UTF-8 (try --encoding cp1252)"
    )


@pytest.mark.django_db
def test_it_refuses_an_empty_file(tmp_path):
    report = run_failing(units=write(tmp_path, "units.csv", ""))

    assert report.splitlines()[0] == "units.csv: the file is empty: the header line is missing"


@pytest.mark.django_db
def test_it_names_a_file_it_cannot_open(tmp_path):
    with (
        translation.override("en"),
        pytest.raises(CommandError, match=r"nowhere\.csv: cannot be read"),
    ):
        call_command("import_master_data", units=str(tmp_path / "nowhere.csv"))


@pytest.mark.django_db
def test_it_needs_at_least_one_file():
    with translation.override("en"), pytest.raises(CommandError, match="at least one of --units"):
        call_command("import_master_data")


@pytest.mark.django_db
def test_it_exits_with_status_1_on_bad_files(monkeypatch, capsys):
    # run_from_argv closes all connections when done; the test's must stay open.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with translation.override("en"), pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(
            ["manage.py", "import_master_data", "--contracts", str(DATA / "contracts_bad.csv")]
        )

    assert exit_.value.code == 1
    assert "contracts_bad.csv, line 3:" in capsys.readouterr().err
    assert Contract.objects.count() == 0


# --- Dry run ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reports_what_a_dry_run_would_do_and_changes_nothing():
    output = run(**GOOD, dry_run=True)

    assert summary(output)["members"] == (3, 0, 0, 0)
    assert summary(output)["household links"] == (3, 0, 0, 0)
    assert "Dry run: nothing was changed." in output
    assert snapshot() == {key: [] for key in snapshot()}


@pytest.mark.django_db
def test_it_changes_nothing_on_a_dry_run_with_updates(tmp_path):
    run(**GOOD)
    before = snapshot()
    members = edited(tmp_path, "members", ("Jana;Müller", "Jana;Schulze"))

    output = run(members=members, dry_run=True)

    assert summary(output)["members"] == (0, 1, 2, 0)
    assert snapshot() == before


@pytest.mark.django_db
def test_it_fails_a_dry_run_with_bad_files():
    report = run_failing(units=DATA / "units_bad.csv", dry_run=True)

    assert "9 problems found; nothing was imported." in report


# --- Pure functions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("160,00", Decimal("160")),
        ("1.234,56", Decimal("1234.56")),
        ("1.234.567,8", Decimal("1234567.8")),
        ("0,5", Decimal("0.5")),
        ("42", Decimal("42")),
        ("-3", Decimal("-3")),
        ("1.000", Decimal("1000")),
    ],
)
def test_it_parses_german_numbers(text, number):
    assert decimal_parse(text) == number


@pytest.mark.parametrize("text", ["1.5", "12.34", "1,2,3", "1.23,4", ",5", "abc", "", "1 234"])
def test_it_rejects_what_is_not_a_german_number(text):
    assert decimal_parse(text) is None


def test_it_decodes_utf8_before_windows_1252():
    assert csv_decode("Straße".encode(), name="x.csv") == ("Straße", [])
    assert csv_decode("\ufeffStraße".encode(), name="x.csv") == ("Straße", [])
    assert csv_decode("Straße".encode("cp1252"), name="x.csv") == ("Straße", [])


def test_it_refuses_nul_bytes_in_any_encoding():
    for encoding in ("auto", "utf-8", "cp1252"):
        with translation.override("en"):
            text, issues = csv_decode(b"PLZ\n10\x0015\n", name="x.csv", encoding=encoding)
        assert text is None
        assert "NUL bytes" in issues[0].message


@pytest.mark.django_db
def test_the_report_speaks_german_by_default():
    stdout, stderr = StringIO(), StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(
            "import_master_data",
            members=str(DATA / "members_bad.csv"),
            stdout=stdout,
            stderr=stderr,
        )
    assert "Zeile" in stderr.getvalue()
    assert "nichts importiert" in str(failure.value)


@pytest.mark.django_db
def test_the_reason_for_leaving_is_read_when_the_export_has_it(tmp_path):
    """GenG § 30: the members' list keeps date and reason of leaving. The
    column is optional (older exports lack it); given, it is checked."""
    run(**GOOD)  # the members file without the column: blank reasons
    assert set(Member.objects.values_list("left_reason", flat=True)) == {""}
    header, *rows = (DATA / "members.csv").read_text(encoding="utf-8").splitlines()
    first = rows[0].split(";")
    first[12] = "31.12.2025"  # Austrittsdatum
    with_reason = tmp_path / "members_reason.csv"
    with_reason.write_text(
        "\n".join([header + ";Austrittsgrund", ";".join(first) + ";Kündigung"]
                  + [row + ";" for row in rows[1:]]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    run(members=with_reason)
    member = Member.objects.get(member_number=first[0])
    assert (member.left_on, member.left_reason) == (datetime.date(2025, 12, 31), "cancellation")

    # A reason without a date, and one the law does not know: refused, nothing changes.
    before = snapshot()
    second = rows[1].split(";")
    bad = tmp_path / "members_reason_bad.csv"
    bad.write_text(
        "\n".join([header + ";Austrittsgrund", ";".join(first) + ";Umzug",
                   ";".join(second) + ";Tod"]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    report = run_failing(members=bad)
    assert "line 2: Austrittsgrund 'Umzug' is not allowed" in report
    assert "line 3: Austrittsgrund is given but Austrittsdatum is empty" in report
    assert snapshot() == before
