"""Import of the cooperative's master data from the ERP's CSV exports.

Four files, each optional: units (Wohnungen), members (Mitglieder),
contracts (Nutzungsverträge) and the share ledger (Geschäftsguthaben: the
bookings on each member's shares), in the layout documented in
docs/import.md.
Every row of every file is validated before anything is written; a single
problem anywhere means nothing is imported. The write itself runs in one
transaction with bulk queries, keyed by the ERP's numbers, so running the
same export twice changes nothing the second time.

Reading and validating are pure functions (bytes in, rows and issues out);
only `master_data_import` touches the database."""

import csv
import datetime
import io
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cooperative.models import Building, Estate, Unit
from members.models import (
    Contract,
    LeavingReason,
    Member,
    Salutation,
    Shareholding,
    ShareMovement,
)

ENCODINGS = ("auto", "utf-8", "cp1252")

UNIT_COLUMNS = (
    "Wohnanlage-Nr",
    "Wohnanlage",
    "Straße",
    "Hausnummer",
    "PLZ",
    "Ort",
    "Wohnungs-Nr",
    "Etage",
    "Lage",
    "Zimmer",
    "Wohnfläche",
)
MEMBER_COLUMNS = (
    "Mitglieds-Nr",
    "Anrede",
    "Titel",
    "Vorname",
    "Nachname",
    "Straße",
    "PLZ",
    "Ort",
    "E-Mail",
    "Telefon",
    "Sprache",
    "Eintrittsdatum",
    "Austrittsdatum",
    "Pflichtanteile",
    "Freiwillige Anteile",
    "Anteilswert",
)
# Read when the header has them, not required: an older export without them
# still imports (the value is then blank).
MEMBER_OPTIONAL_COLUMNS = ("Austrittsgrund",)
# The reasons as an ERP writes them (German words, or the codes themselves).
LEAVING_REASONS = {
    "": "",
    "kündigung": LeavingReason.CANCELLATION,
    "übertragung": LeavingReason.TRANSFER,
    "ausschluss": LeavingReason.EXCLUSION,
    "tod": LeavingReason.DEATH,
    "auflösung": LeavingReason.DISSOLUTION,
} | {reason.value: reason.value for reason in LeavingReason}
CONTRACT_COLUMNS = (
    "Vertrags-Nr",
    "Wohnungs-Nr",
    "Mitglieds-Nr",
    "Beginn",
    "Ende",
    "Nutzungsgebühr",
)

LEDGER_COLUMNS = (
    "Beleg-Nr",
    "Mitglieds-Nr",
    "Buchungsdatum",
    "Vorgang",
    "Anteile",
    "Betrag",
    "Geschäftsjahr",
    "Buchungstext",
)

SALUTATIONS = {"frau": Salutation.MS, "herr": Salutation.MR, "": Salutation.NONE}
LANGUAGES = {code for code, _name in settings.LANGUAGES}

# Fields a member maintains in the portal once they have an account
# (accounts.services: confirmed e-mail, phone, language). The ERP does not
# learn of those changes, so its export must not overwrite them.
PORTAL_OWNED_MEMBER_FIELDS = ("email", "phone", "preferred_language")

# Rows per query when loading existing rows by key and per bulk write: below
# SQLite's limit of 999 variables per statement for the loads; Django splits
# bulk_create/bulk_update further by the number of fields where it must.
BATCH_SIZE = 500

_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
# German notation: decimal comma, optional thousands dots in groups of three.
_DECIMAL = re.compile(r"([+-]?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?")
_INTEGER = re.compile(r"[+-]?\d+")
_POSTCODE = re.compile(r"\d{5}")


# --- Report -----------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """One problem, located as a person finds it in the file: the physical
    line (header = line 1), or no line for a problem with the whole file."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return _("%(file)s: %(message)s") % {"file": self.file, "message": self.message}
        return _("%(file)s, line %(line)d: %(message)s") % {
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }


class MasterDataInvalid(Exception):
    """The files hold problems; nothing was imported."""

    def __init__(self, issues: list[Issue]):
        super().__init__(f"{len(issues)} problem(s) in the import files")
        self.issues = issues


@dataclass(frozen=True)
class Source:
    """One export file: a name for the report and its raw bytes."""

    name: str
    data: bytes


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class ImportResult:
    dry_run: bool
    counts: dict[str, Counts] = field(default_factory=dict)


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> object: ...
    def close(self) -> None: ...


ProgressFactory = Callable[[str, int], ProgressBar]
# Which of these member ids have a portal account (see master_data_import).
AccountLookup = Callable[[Sequence[int]], Iterable[int]]


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _no_progress(description: str, total: int) -> ProgressBar:
    return _NoProgress()


# --- Reading files ----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Table:
    name: str
    rows: list[Row]


def csv_decode(data: bytes, *, name: str, encoding: str = "auto") -> tuple[str | None, list[Issue]]:
    """The text of an export. `auto` takes strict UTF-8 (BOM or not) and falls
    back to Windows-1252, the two encodings German ERPs write; anything else
    (UTF-16, binary files) is refused rather than imported as garbage."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}")

    def fail(message: str, position: int | None = None, **params: Any) -> tuple[None, list[Issue]]:
        if position is None:
            return None, [Issue(name, None, message % params)]
        line = data.count(b"\n", 0, position) + 1
        return None, [Issue(name, line, message % {"byte": data[position], **params})]

    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        # cp1252 would happily decode NUL bytes, and every UTF-16 file has them.
        return fail(
            _(
                "the file contains NUL bytes and is not a text file in UTF-8 or "
                "Windows-1252 (perhaps UTF-16?). Export it as CSV in UTF-8 or Windows-1252."
            )
        )
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig"), []
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                return fail(
                    _("byte 0x%(byte)02X is not valid UTF-8 (try --encoding cp1252)"), exc.start
                )
    elif data.startswith(b"\xef\xbb\xbf"):
        return fail(_("the file starts with a UTF-8 byte order mark; use --encoding utf-8 or auto"))
    try:
        return data.decode("cp1252"), []
    except UnicodeDecodeError as exc:
        if encoding == "auto":
            return fail(
                _(
                    "the file is neither UTF-8 nor Windows-1252 (byte 0x%(byte)02X). "
                    "Export it as CSV in UTF-8 or Windows-1252."
                ),
                exc.start,
            )
        return fail(
            _("byte 0x%(byte)02X is not defined in Windows-1252 (try --encoding utf-8)"),
            exc.start,
        )


def csv_table(
    text: str, *, name: str, columns: Sequence[str], optional: Sequence[str] = ()
) -> tuple[Table | None, list[Issue]]:
    """Rows as {column: stripped cell} with their physical line numbers.

    The header is matched exactly (surrounding whitespace and a BOM aside);
    every documented column must be present, unknown ones are ignored, so an
    ERP may export more than we read. `optional` columns are read when the
    header has them and are blank otherwise."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')
    issues: list[Issue] = []
    records = _records(reader)
    try:
        header_line, header = next(records, (1, []))
        first = [cell.replace("\ufeff", "").strip().lower() for cell in header]
        if first[:1] == ["sep="] and not any(first[1:]):
            # Excel's hint line; some ERPs write it before the header.
            header_line, header = next(records, (2, []))
    except csv.Error as exc:
        return None, [Issue(name, reader.line_num, _("not readable as CSV: %s") % exc)]
    header = [cell.replace("\ufeff", "").strip() for cell in header]
    if not any(header):
        return None, [Issue(name, None, _("the file is empty: the header line is missing"))]
    positions: dict[str, int] = {}
    for index, column in enumerate(header):
        if (column in columns or column in optional) and column in positions:
            issues.append(
                Issue(
                    name, header_line, _("column '%(column)s' appears twice") % {"column": column}
                )
            )
        positions.setdefault(column, index)
    missing = [column for column in columns if column not in positions]
    if missing:
        issues.append(
            Issue(
                name,
                header_line,
                ngettext(
                    "required column %(columns)s is missing (the header has: %(found)s)",
                    "required columns %(columns)s are missing (the header has: %(found)s)",
                    len(missing),
                )
                % {
                    "columns": ", ".join(f"'{column}'" for column in missing),
                    "found": "; ".join(cell for cell in header if cell),
                },
            )
        )
    if issues:
        return None, issues
    rows = []
    try:
        for line, record in records:
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue  # blank lines and ";;;" lines carry nothing
            if len(cells) < len(header) or any(cells[len(header) :]):
                issues.append(
                    Issue(
                        name,
                        line,
                        _(
                            "the line has %(found)d fields but the header has %(expected)d "
                            "(a missing or unquoted ';'?)"
                        )
                        % {"found": len(cells), "expected": len(header)},
                    )
                )
                continue
            values = {column: cells[positions[column]] for column in columns}
            for column in optional:
                values[column] = cells[positions[column]] if column in positions else ""
            rows.append(Row(line, values))
    except csv.Error as exc:
        issues.append(Issue(name, reader.line_num, _("not readable as CSV: %s") % exc))
    return Table(name, rows), issues


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    """Records with the physical line each starts on (a quoted cell may span lines)."""
    previous = 0
    for record in reader:
        yield previous + 1, record
        previous = reader.line_num


# --- Reading cells ----------------------------------------------------------


class _Cells:
    """One row's cells, read into Python values; each problem becomes an Issue
    naming the column and the value as written, and the value becomes None."""

    def __init__(self, table: Table, row: Row, issues: list[Issue]):
        self.table, self.row, self.issues = table, row, issues
        self.count_before = len(issues)

    @property
    def ok(self) -> bool:
        return len(self.issues) == self.count_before

    def problem(self, message: str, **params: Any) -> None:
        self.issues.append(Issue(self.table.name, self.row.line, message % params))

    def text(
        self, column: str, model_field: models.Field | None = None, *, required: bool = False
    ) -> str:
        value = self.row.cells[column]
        if required and not value:
            self.problem(_("%(column)s is empty but required"), column=column)
        elif model_field is not None and len(value) > model_field.max_length:
            self.problem(
                _("%(column)s '%(value)s' is longer than %(max)d characters"),
                column=column,
                value=value,
                max=model_field.max_length,
            )
        return value

    def date(self, column: str, *, required: bool = False) -> datetime.date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        match = _DATE.fullmatch(value)
        try:
            if match is None:
                raise ValueError
            day, month, year = (int(part) for part in match.groups())
            return datetime.date(year, month, day)
        except ValueError:
            self.problem(
                _("%(column)s '%(value)s' is not a valid date (DD.MM.YYYY)"),
                column=column,
                value=value,
            )
            return None

    def decimal(
        self, column: str, model_field: models.DecimalField, *, required: bool = False
    ) -> Decimal | None:
        value = self.text(column, required=required)
        if not value:
            return None
        number = decimal_parse(value)
        if number is None:
            self.problem(
                _("%(column)s '%(value)s' is not a number in German notation (e.g. 1.234,56)"),
                column=column,
                value=value,
            )
            return None
        if number < 0:
            self.problem(
                _("%(column)s '%(value)s' must not be negative"), column=column, value=value
            )
            return None
        places = model_field.decimal_places
        if -number.as_tuple().exponent > places:
            self.problem(
                ngettext(
                    "%(column)s '%(value)s' has more than %(places)d decimal place",
                    "%(column)s '%(value)s' has more than %(places)d decimal places",
                    places,
                ),
                column=column,
                value=value,
                places=places,
            )
            return None
        # The column's precision: anything above would overflow in PostgreSQL.
        if number >= Decimal(10) ** (model_field.max_digits - places):
            self.problem(_("%(column)s '%(value)s' is too large"), column=column, value=value)
            return None
        return number.quantize(Decimal(1).scaleb(-places))

    def integer(
        self, column: str, *, minimum: int, maximum: int, required: bool = False
    ) -> int | None:
        value = self.text(column, required=required)
        if not value:
            return None
        if not _INTEGER.fullmatch(value):
            self.problem(
                _("%(column)s '%(value)s' is not a whole number"), column=column, value=value
            )
            return None
        number = int(value)
        if number < 0 <= minimum:
            self.problem(
                _("%(column)s '%(value)s' must not be negative"), column=column, value=value
            )
            return None
        if not minimum <= number <= maximum:
            self.problem(
                _("%(column)s '%(value)s' is outside %(minimum)d to %(maximum)d"),
                column=column,
                value=value,
                minimum=minimum,
                maximum=maximum,
            )
            return None
        return number

    def postcode(self, column: str, *, required: bool = False) -> str:
        value = self.text(column, required=required)
        if value and not _POSTCODE.fullmatch(value):
            self.problem(
                _("%(column)s '%(value)s' is not a German postcode (five digits)"),
                column=column,
                value=value,
            )
        return value

    def email(self, column: str, model_field: models.Field) -> str:
        value = self.text(column, model_field)
        if value:
            try:
                validate_email(value)
            except ValidationError:
                self.problem(
                    _("%(column)s '%(value)s' is not a valid e-mail address"),
                    column=column,
                    value=value,
                )
        return value

    def unique(self, column: str, value: str, seen: dict[str, int]) -> None:
        """A number that an earlier row of the same file already used is an error."""
        if value in seen:
            self.problem(
                _("%(column)s '%(value)s' appears more than once (first in line %(first)d)"),
                column=column,
                value=value,
                first=seen[value],
            )
        else:
            seen[value] = self.row.line

    def choice(self, column: str, choices: dict[str, str], allowed: str) -> str | None:
        value = self.text(column)
        if value.lower() not in choices:
            self.problem(
                _("%(column)s '%(value)s' is not allowed (allowed: %(allowed)s)"),
                column=column,
                value=value,
                allowed=allowed,
            )
            return None
        return choices[value.lower()]

    def not_before(
        self,
        later: datetime.date | None,
        earlier: datetime.date | None,
        later_column: str,
        earlier_column: str,
    ) -> None:
        if later is not None and earlier is not None and later < earlier:
            self.problem(
                _("%(later)s '%(later_value)s' is before %(earlier)s '%(earlier_value)s'"),
                later=later_column,
                later_value=self.row.cells[later_column],
                earlier=earlier_column,
                earlier_value=self.row.cells[earlier_column],
            )


def decimal_parse(value: str) -> Decimal | None:
    """A number as German ERPs write it: "160,00", "1.234,56", "-3". None if
    it is not one; "1.5" (an English decimal point) is not."""
    match = _DECIMAL.fullmatch(value)
    if match is None:
        return None
    sign, whole, fraction = match.groups()
    try:
        return Decimal(f"{sign}{whole.replace('.', '')}.{fraction or '0'}").normalize() + 0
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return None


def _field(model: type[models.Model], name: str) -> Any:
    return model._meta.get_field(name)


# --- Units ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRow:
    line: int
    estate_number: str
    estate_name: str
    street: str
    house_number: str
    postcode: str
    city: str
    number: str
    floor: int
    position: str
    rooms: Decimal
    living_area: Decimal

    @property
    def address(self) -> tuple[str, str, str]:
        return (self.street, self.house_number, self.postcode)


@dataclass
class Parsed:
    rows: list
    # Every number the file names, in a valid row or not: a contract that
    # points at a unit whose row is broken gets one error (the unit's), not two.
    numbers: set[str]
    issues: list[Issue]


def units_parse(table: Table, *, progress: ProgressFactory = _no_progress) -> Parsed:
    """Validate the Wohnungen export: one row per unit, carrying its building
    (by address) and estate (by number)."""
    issues: list[Issue] = []
    rows: list[UnitRow] = []
    numbers: set[str] = set()
    unit_lines: dict[str, int] = {}
    estates: dict[str, tuple[str, int]] = {}
    buildings: dict[tuple[str, str, str], tuple[str, str, int]] = {}
    bar = progress(table.name, len(table.rows))
    for row in table.rows:
        cells = _Cells(table, row, issues)
        estate_number = cells.text("Wohnanlage-Nr", _field(Estate, "number"), required=True)
        estate_name = cells.text("Wohnanlage", _field(Estate, "name"), required=True)
        street = cells.text("Straße", _field(Building, "street"), required=True)
        house_number = cells.text("Hausnummer", _field(Building, "house_number"), required=True)
        postcode = cells.postcode("PLZ", required=True)
        city = cells.text("Ort", _field(Building, "city"), required=True)
        number = cells.text("Wohnungs-Nr", _field(Unit, "number"), required=True)
        floor = cells.integer("Etage", minimum=-32768, maximum=32767, required=True)
        position = cells.text("Lage", _field(Unit, "position"))
        rooms = cells.decimal("Zimmer", _field(Unit, "rooms"), required=True)
        living_area = cells.decimal("Wohnfläche", _field(Unit, "living_area"), required=True)
        if number:
            numbers.add(number)
            cells.unique("Wohnungs-Nr", number, unit_lines)
        if estate_number and estate_name:
            name, line = estates.setdefault(estate_number, (estate_name, row.line))
            if name != estate_name:
                cells.problem(
                    _(
                        "Wohnanlage-Nr '%(number)s' is called '%(name)s' here but "
                        "'%(first_name)s' in line %(first)d"
                    ),
                    number=estate_number,
                    name=estate_name,
                    first_name=name,
                    first=line,
                )
        if street and house_number and postcode and estate_number and city:
            address = (street, house_number, postcode)
            first_estate, first_city, line = buildings.setdefault(
                address, (estate_number, city, row.line)
            )
            if (first_estate, first_city) != (estate_number, city):
                cells.problem(
                    _(
                        "the building %(address)s belongs to Wohnanlage-Nr '%(first_estate)s' "
                        "in %(first_city)s in line %(first)d, here to '%(estate)s' in %(city)s"
                    ),
                    address=f"{street} {house_number}, {postcode}",
                    first_estate=first_estate,
                    first_city=first_city,
                    first=line,
                    estate=estate_number,
                    city=city,
                )
        if cells.ok:
            rows.append(
                UnitRow(
                    row.line,
                    estate_number,
                    estate_name,
                    street,
                    house_number,
                    postcode,
                    city,
                    number,
                    floor,
                    position,
                    rooms,
                    living_area,
                )
            )
        bar.update()
    bar.close()
    return Parsed(rows, numbers, issues)


# --- Members ----------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    line: int
    member_number: str
    salutation: str
    title: str
    first_name: str
    last_name: str
    street: str
    postcode: str
    city: str
    email: str
    phone: str
    preferred_language: str
    joined_on: datetime.date
    left_on: datetime.date | None
    left_reason: str
    required_shares: int
    voluntary_shares: int
    share_value: Decimal | None


def members_parse(table: Table, *, progress: ProgressFactory = _no_progress) -> Parsed:
    """Validate the Mitglieder export: one row per member with their shares."""
    issues: list[Issue] = []
    rows: list[MemberRow] = []
    numbers: set[str] = set()
    member_lines: dict[str, int] = {}
    max_shares = 2_147_483_647  # PositiveIntegerField on every database
    language_choices = {code: code for code in LANGUAGES} | {"": settings.LANGUAGE_CODE}
    # Translated once, not per row: gettext is most of the cost of a clean row.
    salutations_allowed = _("Frau, Herr or empty")
    languages_allowed = _("%(codes)s or empty") % {"codes": ", ".join(sorted(LANGUAGES))}
    reasons_allowed = _("Kündigung, Übertragung, Ausschluss, Tod, Auflösung or empty")
    bar = progress(table.name, len(table.rows))
    for row in table.rows:
        cells = _Cells(table, row, issues)
        number = cells.text("Mitglieds-Nr", _field(Member, "member_number"), required=True)
        salutation = cells.choice("Anrede", SALUTATIONS, salutations_allowed)
        title = cells.text("Titel", _field(Member, "title"))
        first_name = cells.text("Vorname", _field(Member, "first_name"), required=True)
        last_name = cells.text("Nachname", _field(Member, "last_name"), required=True)
        street = cells.text("Straße", _field(Member, "street"))
        postcode = cells.postcode("PLZ")
        city = cells.text("Ort", _field(Member, "city"))
        email = cells.email("E-Mail", _field(Member, "email"))
        phone = cells.text("Telefon", _field(Member, "phone"))
        language = cells.choice("Sprache", language_choices, languages_allowed)
        joined_on = cells.date("Eintrittsdatum", required=True)
        left_on = cells.date("Austrittsdatum")
        cells.not_before(left_on, joined_on, "Austrittsdatum", "Eintrittsdatum")
        left_reason = cells.choice("Austrittsgrund", LEAVING_REASONS, reasons_allowed) or ""
        if left_reason and left_on is None:
            cells.problem(_("Austrittsgrund is given but Austrittsdatum is empty"))
        required_shares = cells.integer("Pflichtanteile", minimum=0, maximum=max_shares) or 0
        voluntary = cells.integer("Freiwillige Anteile", minimum=0, maximum=max_shares) or 0
        share_value = cells.decimal("Anteilswert", _field(Shareholding, "nominal_value"))
        if (required_shares or voluntary) and cells.ok and not share_value:
            cells.problem(
                _("Anteilswert must be greater than 0 when the member holds shares"),
            )
        if number:
            numbers.add(number)
            cells.unique("Mitglieds-Nr", number, member_lines)
        if cells.ok:
            rows.append(
                MemberRow(
                    row.line,
                    number,
                    salutation,
                    title,
                    first_name,
                    last_name,
                    street,
                    postcode,
                    city,
                    email,
                    phone,
                    language,
                    joined_on,
                    left_on,
                    left_reason,
                    required_shares,
                    voluntary,
                    share_value,
                )
            )
        bar.update()
    bar.close()
    return Parsed(rows, numbers, issues)


# --- Contracts --------------------------------------------------------------


@dataclass
class ContractPlan:
    """One contract, gathered from its rows (one per member of the household)."""

    line: int
    number: str
    unit_number: str
    start: datetime.date
    end: datetime.date | None
    monthly_fee: Decimal
    members: dict[str, int]  # member number -> line


def contracts_parse(table: Table, *, progress: ProgressFactory = _no_progress) -> Parsed:
    """Validate the Nutzungsverträge export. A household is several rows with
    the same Vertrags-Nr, one per member; they must agree on everything else."""
    issues: list[Issue] = []
    plans: dict[str, ContractPlan] = {}
    first_cells: dict[str, dict[str, str]] = {}
    bar = progress(table.name, len(table.rows))
    for row in table.rows:
        cells = _Cells(table, row, issues)
        number = cells.text("Vertrags-Nr", _field(Contract, "number"), required=True)
        unit_number = cells.text("Wohnungs-Nr", _field(Unit, "number"), required=True)
        member_number = cells.text("Mitglieds-Nr", _field(Member, "member_number"), required=True)
        start = cells.date("Beginn", required=True)
        end = cells.date("Ende")
        cells.not_before(end, start, "Ende", "Beginn")
        fee = cells.decimal("Nutzungsgebühr", _field(Contract, "monthly_fee"), required=True)
        plan = plans.get(number)
        if not cells.ok:
            pass
        elif plan is None:
            plans[number] = ContractPlan(
                row.line, number, unit_number, start, end, fee, {member_number: row.line}
            )
            first_cells[number] = row.cells
        else:
            for column, value, first_value in (
                ("Wohnungs-Nr", unit_number, plan.unit_number),
                ("Beginn", start, plan.start),
                ("Ende", end, plan.end),
                # Compared as numbers: "160,0" and "160,00" agree.
                ("Nutzungsgebühr", fee, plan.monthly_fee),
            ):
                if value != first_value:
                    cells.problem(
                        _(
                            "Vertrags-Nr '%(number)s': %(column)s '%(value)s' differs from "
                            "line %(first)d ('%(first_value)s')"
                        ),
                        number=number,
                        column=column,
                        value=row.cells[column],
                        first=plan.line,
                        first_value=first_cells[number][column],
                    )
            if member_number in plan.members:
                cells.problem(
                    _(
                        "Mitglieds-Nr '%(member)s' is listed twice for Vertrags-Nr "
                        "'%(number)s' (first in line %(first)d)"
                    ),
                    member=member_number,
                    number=number,
                    first=plan.members[member_number],
                )
            elif cells.ok:
                plan.members[member_number] = row.line
        bar.update()
    bar.close()
    return Parsed(list(plans.values()), set(plans), issues)


def contracts_check_references(
    plans: Iterable[ContractPlan],
    *,
    file: str,
    unit_numbers: set[str],
    member_numbers: set[str],
) -> list[Issue]:
    """Every unit and member a contract names must exist: in the database or
    in the same import."""
    issues = []
    for plan in plans:
        if plan.unit_number not in unit_numbers:
            issues.append(
                Issue(
                    file,
                    plan.line,
                    _("Wohnungs-Nr '%(number)s' exists neither in the database nor in the import")
                    % {"number": plan.unit_number},
                )
            )
        for member_number, line in plan.members.items():
            if member_number not in member_numbers:
                issues.append(
                    Issue(
                        file,
                        line,
                        _(
                            "Mitglieds-Nr '%(number)s' exists neither in the database "
                            "nor in the import"
                        )
                        % {"number": member_number},
                    )
                )
    return issues


# --- Share ledger -----------------------------------------------------------

# What each Vorgang may carry: Anteile and Betrag required (> 0), "none"
# (empty or 0) or "any". The kind says which way they move shares and
# balance (ShareMovement.SHARES_UP …), so the file carries no signs.
K = ShareMovement.Kind
LEDGER_KINDS: dict[str, tuple[str, str, str]] = {
    # Vorgang (lower case): kind, Anteile, Betrag
    "vortrag": (K.CARRIED_FORWARD, "any", "any"),
    "zeichnung": (K.SUBSCRIPTION, "required", "none"),
    "kündigung": (K.CANCELLATION, "required", "none"),
    "einzahlung": (K.PAYMENT, "none", "required"),
    "auszahlung": (K.PAYOUT, "none", "required"),
    "dividendengutschrift": (K.DIVIDEND_CREDITED, "none", "required"),
    "dividendenauszahlung": (K.DIVIDEND_PAID, "none", "required"),
    "übertragung zugang": (K.TRANSFER_IN, "required", "any"),
    "übertragung abgang": (K.TRANSFER_OUT, "required", "any"),
}


@dataclass(frozen=True)
class LedgerRow:
    line: int
    reference: str
    member_number: str
    booked_on: datetime.date
    kind: str
    shares: int
    amount: Decimal
    business_year: int
    text: str


def ledger_parse(table: Table, *, progress: ProgressFactory = _no_progress) -> Parsed:
    """Validate the Geschäftsguthaben export: one row per booking, keyed by
    its Beleg-Nr. Counts and amounts without sign; the Vorgang says which
    way they go and which of them it must (or must not) carry."""
    issues: list[Issue] = []
    rows: list[LedgerRow] = []
    reference_lines: dict[str, int] = {}
    max_shares = 2_147_483_647  # PositiveIntegerField on every database
    allowed = ", ".join(name.capitalize() for name in LEDGER_KINDS)
    bar = progress(table.name, len(table.rows))
    for row in table.rows:
        cells = _Cells(table, row, issues)
        reference = cells.text("Beleg-Nr", _field(ShareMovement, "reference"), required=True)
        member_number = cells.text("Mitglieds-Nr", _field(Member, "member_number"), required=True)
        booked_on = cells.date("Buchungsdatum", required=True)
        written = cells.text("Vorgang", required=True)
        shares = cells.integer("Anteile", minimum=0, maximum=max_shares)
        amount = cells.decimal("Betrag", _field(ShareMovement, "amount"))
        year = cells.integer("Geschäftsjahr", minimum=1900, maximum=2100, required=True)
        text = cells.text("Buchungstext", _field(ShareMovement, "text"))
        found = LEDGER_KINDS.get(" ".join(written.split()).lower()) if written else None
        if written and found is None:
            cells.problem(
                _("%(column)s '%(value)s' is not allowed (allowed: %(allowed)s)"),
                column="Vorgang",
                value=written,
                allowed=allowed,
            )
        if found is not None and cells.ok:
            _kind, shares_rule, amount_rule = found
            for column, value, rule in (
                ("Anteile", shares or 0, shares_rule),
                ("Betrag", amount or 0, amount_rule),
            ):
                if rule == "required" and not value:
                    cells.problem(
                        _("%(column)s must be greater than 0 for Vorgang '%(kind)s'"),
                        column=column,
                        kind=written,
                    )
                elif rule == "none" and value:
                    cells.problem(
                        _("%(column)s must be empty or 0 for Vorgang '%(kind)s'"),
                        column=column,
                        kind=written,
                    )
        if reference:
            cells.unique("Beleg-Nr", reference, reference_lines)
        if cells.ok:
            rows.append(
                LedgerRow(
                    row.line,
                    reference,
                    member_number,
                    booked_on,
                    found[0],
                    shares or 0,
                    amount or Decimal("0.00"),
                    year,
                    text,
                )
            )
        bar.update()
    bar.close()
    return Parsed(rows, set(reference_lines), issues)


def ledger_check_references(
    rows: Iterable[LedgerRow], *, file: str, member_numbers: set[str]
) -> list[Issue]:
    """Every booking's member must exist: in the database or in the members
    file of the same import."""
    return [
        Issue(
            file,
            row.line,
            _("Mitglieds-Nr '%(number)s' exists neither in the database nor in the import")
            % {"number": row.member_number},
        )
        for row in rows
        if row.member_number not in member_numbers
    ]


# --- The service ------------------------------------------------------------


def master_data_import(
    *,
    units: Source | None = None,
    members: Source | None = None,
    contracts: Source | None = None,
    share_ledger: Source | None = None,
    encoding: str = "auto",
    dry_run: bool = False,
    progress: ProgressFactory | None = None,
    members_with_account: AccountLookup,
) -> ImportResult:
    """Import the ERP exports: estates, buildings and units; members and their
    shares; contracts and their households; the bookings on the members'
    shares (the share ledger).

    `members_with_account(ids)` tells which of the given member ids have a
    portal account; their portal-owned fields are kept. The caller supplies
    it because accounts are a layer above the member records (it runs inside
    the import's transaction, so it sees what the import sees).

    Validates every row of every file first and raises MasterDataInvalid with
    all problems if there is one; otherwise writes everything in one
    transaction (rolled back again for a dry run, which so reports exactly
    what a real run would do). Rows are matched by estate, unit, member and
    contract number, bookings by their ERP reference and buildings by
    address: a re-run updates, never duplicates. Nothing is deleted except
    shareholdings whose count became 0 and household links the contracts
    file no longer lists."""
    if not (units or members or contracts or share_ledger):
        raise ValueError("at least one file is required")
    progress = progress or _no_progress
    issues: list[Issue] = []
    parsed: dict[str, Parsed | None] = {}
    all_readable = True
    for kind, source, columns, optional, parse in (
        ("units", units, UNIT_COLUMNS, (), units_parse),
        ("members", members, MEMBER_COLUMNS, MEMBER_OPTIONAL_COLUMNS, members_parse),
        ("contracts", contracts, CONTRACT_COLUMNS, (), contracts_parse),
        ("share_ledger", share_ledger, LEDGER_COLUMNS, (), ledger_parse),
    ):
        parsed[kind] = None
        if source is None:
            continue
        text, problems = csv_decode(source.data, name=source.name, encoding=encoding)
        table = None
        if text is not None:
            table, problems = csv_table(text, name=source.name, columns=columns, optional=optional)
        issues += problems
        if table is None:
            all_readable = False
            continue
        result = parse(table, progress=progress)
        issues += result.issues
        parsed[kind] = result

    with transaction.atomic():
        # Reference checks read the database inside the transaction that
        # writes, so what was checked is what gets linked.
        if all_readable and (parsed["contracts"] or parsed["share_ledger"]):
            plans = parsed["contracts"].rows if parsed["contracts"] else []
            bookings = parsed["share_ledger"].rows if parsed["share_ledger"] else []
            unit_numbers = parsed["units"].numbers if parsed["units"] else set()
            member_numbers = parsed["members"].numbers if parsed["members"] else set()
            wanted_units = {plan.unit_number for plan in plans} - unit_numbers
            wanted_members = {n for plan in plans for n in plan.members}
            wanted_members |= {booking.member_number for booking in bookings}
            unit_numbers |= set(_pks(Unit, "number", wanted_units))
            member_numbers |= set(_pks(Member, "member_number", wanted_members - member_numbers))
            if plans:
                issues += contracts_check_references(
                    plans,
                    file=contracts.name,
                    unit_numbers=unit_numbers,
                    member_numbers=member_numbers,
                )
            if bookings:
                issues += ledger_check_references(
                    bookings, file=share_ledger.name, member_numbers=member_numbers
                )
        if issues:
            order = {
                source.name: i
                for i, source in enumerate(filter(None, (units, members, contracts, share_ledger)))
            }
            issues.sort(key=lambda issue: (order.get(issue.file, 9), issue.line or 0))
            raise MasterDataInvalid(issues)

        result = ImportResult(dry_run=dry_run)
        if parsed["units"]:
            _units_apply(parsed["units"].rows, result, progress)
        if parsed["members"]:
            _members_apply(parsed["members"].rows, result, progress, members_with_account)
        if parsed["contracts"]:
            _contracts_apply(parsed["contracts"].rows, result, progress)
        if parsed["share_ledger"]:
            _ledger_apply(parsed["share_ledger"].rows, result, progress)
        if dry_run:
            transaction.set_rollback(True)
    return result


# --- Writing ----------------------------------------------------------------

M = TypeVar("M", bound=models.Model)


def _chunks(items: Sequence, size: int = BATCH_SIZE) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load(model: type[M], key_field: str, keys: Iterable) -> dict[Any, M]:
    """Existing rows whose key_field is one of keys, by that key, in batches
    small enough for SQLite's variable limit. The timestamps are not compared
    and converting them costs a third of the load, so they stay deferred."""
    found = {}
    queryset = model.objects.defer("created_at", "updated_at").order_by()
    for chunk in _chunks(sorted(set(keys))):
        for obj in queryset.filter(**{f"{key_field}__in": chunk}):
            found[getattr(obj, key_field)] = obj
    return found


def _pks(model: type[models.Model], key_field: str, keys: Iterable) -> dict[Any, int]:
    """Primary keys of the existing rows whose key_field is one of keys."""
    found = {}
    for chunk in _chunks(sorted(set(keys))):
        found.update(
            model.objects.filter(**{f"{key_field}__in": chunk}).values_list(key_field, "pk")
        )
    return found


def _sync(
    model: type[M],
    *,
    label: str,
    desired: dict[Any, dict[str, Any]],
    existing: dict[Any, M],
    result: ImportResult,
    progress: ProgressFactory,
    keep: Callable[[M], Sequence[str]] = lambda obj: (),
    touched: Collection = (),
    plain_insert: bool = False,
) -> dict[Any, M]:
    """Create what is missing, update what differs, count what is equal.

    `desired` maps each natural key to the field values its row should have;
    `keep` names fields an existing row keeps whatever the file says;
    `touched` are keys that count as updated even if no field differs (a
    contract whose household changed). Returns the saved row of every key
    — but with `plain_insert` the new rows are inserted without model
    objects (_insert_plain) and are not returned."""
    counts = result.counts.setdefault(label, Counts())
    now = timezone.now()
    to_create: list[M] = []
    to_insert: list[dict[str, Any]] = []
    # Rows are grouped by the fields that changed so an update writes only
    # those: a concurrent change to any other field is not undone.
    to_update: dict[tuple[str, ...], list[M]] = defaultdict(list)
    saved: dict[Any, M] = {}
    for key, values in desired.items():
        obj = existing.get(key)
        if obj is None and plain_insert:
            to_insert.append(values)
            continue
        if obj is None:
            obj = model(**values)
            to_create.append(obj)
        else:
            kept = keep(obj)
            changed = tuple(
                name
                for name, value in values.items()
                if name not in kept and getattr(obj, name) != value
            )
            if changed or key in touched:
                for name in changed:
                    setattr(obj, name, values[name])
                obj.updated_at = now  # bulk_update skips auto_now
                to_update[changed].append(obj)
            else:
                counts.unchanged += 1
        saved[key] = obj
    updates = sum(map(len, to_update.values()))
    bar = progress(label, len(to_create) + len(to_insert) + updates)
    for chunk in _chunks(to_create):
        model.objects.bulk_create(chunk)
        bar.update(len(chunk))
    for chunk in _chunks(to_insert):
        _insert_plain(model, chunk, now=now)
        bar.update(len(chunk))
    for changed, objs in to_update.items():
        for chunk in _chunks(objs):
            model.objects.bulk_update(chunk, [*changed, "updated_at"])
            bar.update(len(chunk))
    bar.close()
    counts.created += len(to_create) + len(to_insert)
    counts.updated += updates
    return saved


def _insert_plain(model: type[models.Model], rows: Sequence[dict[str, Any]], *, now) -> None:
    """Write the rows as they are (COPY on PostgreSQL, executemany on
    SQLite) without making a model object of each. For rows nobody links
    to within the import (the share ledger's bookings): bulk_create
    prepares every value through its field, which was three quarters of
    the import's time with a ten-year ledger (10,000 members, 120,800
    bookings: 38 s of 55 s CPU on SQLite); here only dates and decimals go
    through the database's adapter, and the timestamps once. The values
    come validated from the parser."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    names = list(rows[0])
    ops = connection.ops
    adapt = []
    for name in names:
        internal = fields[name].get_internal_type()
        if internal == "DateField":
            adapt.append(ops.adapt_datefield_value)
        elif internal == "DecimalField":
            field = fields[name]
            adapt.append(
                lambda value, field=field: ops.adapt_decimalfield_value(
                    value, field.max_digits, field.decimal_places
                )
            )
        else:
            adapt.append(None)
    stamp = ops.adapt_datetimefield_value(now)
    columns = [fields[name].column for name in names] + ["created_at", "updated_at"]
    values = [
        (
            *(
                row[name] if convert is None else convert(row[name])
                for name, convert in zip(names, adapt, strict=True)
            ),
            stamp,
            stamp,
        )
        for row in rows
    ]
    table = ops.quote_name(model._meta.db_table)
    names_sql = ", ".join(ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY, in the import's transaction: a statement per row (even
            # pipelined) or one with thousands of parameters each cost more
            # than the rest of the import (bench/import_master_data.py).
            with cursor.cursor.copy(f"COPY {table} ({names_sql}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            # SQLite runs executemany's statements in its own loop.
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {table} ({names_sql}) VALUES ({marks})",  # noqa: S608 - model names
                values,
            )


def _units_apply(rows: list[UnitRow], result: ImportResult, progress: ProgressFactory) -> None:
    estates = _sync(
        Estate,
        label="estates",
        desired={
            row.estate_number: {"number": row.estate_number, "name": row.estate_name}
            for row in rows
        },
        existing=_load(Estate, "number", (row.estate_number for row in rows)),
        result=result,
        progress=progress,
    )
    existing_buildings = {}
    for chunk in _chunks(sorted({row.postcode for row in rows})):
        for building in Building.objects.filter(postcode__in=chunk).order_by():
            address = (building.street, building.house_number, building.postcode)
            existing_buildings[address] = building
    buildings = _sync(
        Building,
        label="buildings",
        desired={
            row.address: {
                "street": row.street,
                "house_number": row.house_number,
                "postcode": row.postcode,
                "estate_id": estates[row.estate_number].pk,
                "city": row.city,
            }
            for row in rows
        },
        existing=existing_buildings,
        result=result,
        progress=progress,
    )
    _sync(
        Unit,
        label="units",
        desired={
            row.number: {
                "number": row.number,
                "building_id": buildings[row.address].pk,
                "floor": row.floor,
                "position": row.position,
                "rooms": row.rooms,
                "living_area": row.living_area,
            }
            for row in rows
        },
        existing=_load(Unit, "number", (row.number for row in rows)),
        result=result,
        progress=progress,
    )


def _members_apply(
    rows: list[MemberRow],
    result: ImportResult,
    progress: ProgressFactory,
    members_with_account: AccountLookup,
) -> None:
    existing = _load(Member, "member_number", (row.member_number for row in rows))
    existing_ids = [member.pk for member in existing.values()]
    with_account: set[int] = set()
    existing_shares: dict[tuple[int, str], Shareholding] = {}
    for chunk in _chunks(existing_ids):
        with_account.update(members_with_account(chunk))
        for share in Shareholding.objects.filter(member_id__in=chunk).order_by():
            existing_shares[(share.member_id, share.kind)] = share
    members = _sync(
        Member,
        label="members",
        desired={
            row.member_number: {
                "member_number": row.member_number,
                "salutation": row.salutation,
                "title": row.title,
                "first_name": row.first_name,
                "last_name": row.last_name,
                "street": row.street,
                "postcode": row.postcode,
                "city": row.city,
                "email": row.email,
                "phone": row.phone,
                "preferred_language": row.preferred_language,
                "joined_on": row.joined_on,
                "left_on": row.left_on,
                "left_reason": row.left_reason,
            }
            for row in rows
        },
        existing=existing,
        result=result,
        progress=progress,
        keep=lambda member: PORTAL_OWNED_MEMBER_FIELDS if member.pk in with_account else (),
    )
    desired = {}
    for row in rows:
        member_id = members[row.member_number].pk
        for kind, count in (
            (Shareholding.Kind.REQUIRED, row.required_shares),
            (Shareholding.Kind.VOLUNTARY, row.voluntary_shares),
        ):
            if count:
                desired[(member_id, kind)] = {
                    "member_id": member_id,
                    "kind": kind,
                    "count": count,
                    "nominal_value": row.share_value,
                }
    _sync(
        Shareholding,
        label="shareholdings",
        desired=desired,
        existing=existing_shares,
        result=result,
        progress=progress,
    )
    # A count of 0 (or empty) in the export: the member no longer holds that kind.
    gone = [share.pk for key, share in existing_shares.items() if key not in desired]
    for chunk in _chunks(gone):
        Shareholding.objects.filter(pk__in=chunk).delete()
    result.counts["shareholdings"].deleted += len(gone)


def _contracts_apply(
    plans: list[ContractPlan], result: ImportResult, progress: ProgressFactory
) -> None:
    units = _pks(Unit, "number", (plan.unit_number for plan in plans))
    members = _pks(Member, "member_number", (n for plan in plans for n in plan.members))
    existing = _load(Contract, "number", (plan.number for plan in plans))
    link_model = Contract.members.through
    links: dict[int, dict[int, int]] = defaultdict(dict)  # contract -> member -> link pk
    for chunk in _chunks([contract.pk for contract in existing.values()]):
        for pk, contract_id, member_id in link_model.objects.filter(
            contract_id__in=chunk
        ).values_list("pk", "contract_id", "member_id"):
            links[contract_id][member_id] = pk
    households = {plan.number: {members[n] for n in plan.members} for plan in plans}
    contracts = _sync(
        Contract,
        label="contracts",
        desired={
            plan.number: {
                "number": plan.number,
                "unit_id": units[plan.unit_number],
                "start": plan.start,
                "end": plan.end,
                "monthly_fee": plan.monthly_fee,
            }
            for plan in plans
        },
        existing=existing,
        result=result,
        progress=progress,
        touched={
            number
            for number, contract in existing.items()
            if set(links[contract.pk]) != households[number]
        },
    )
    # The file's household replaces the contract's: add who is new, unlink who is not listed.
    # Someone added to a running contract that already has a household joins it
    # today (the ERP file has no join date): they see the household's requests
    # from today on, not what the others filed before (tickets' visibility).
    # A new contract's household, or a contract not begun yet, starts together.
    today = timezone.localdate()
    to_add = []
    to_remove = []
    kept = 0
    for number, member_ids in households.items():
        contract = contracts[number]
        current = links.get(contract.pk, {})
        joined = today if current and contract.start < today else None
        to_add += [
            link_model(contract_id=contract.pk, member_id=member_id, joined=joined)
            for member_id in sorted(member_ids - current.keys())
        ]
        to_remove += [pk for member_id, pk in current.items() if member_id not in member_ids]
        kept += len(member_ids & current.keys())
    bar = progress("household links", len(to_add) + len(to_remove))
    for chunk in _chunks(to_add):
        link_model.objects.bulk_create(chunk)
        bar.update(len(chunk))
    for chunk in _chunks(to_remove):
        link_model.objects.filter(pk__in=chunk).delete()
        bar.update(len(chunk))
    bar.close()
    result.counts["household links"] = Counts(
        created=len(to_add), unchanged=kept, deleted=len(to_remove)
    )


def _ledger_apply(rows: list[LedgerRow], result: ImportResult, progress: ProgressFactory) -> None:
    members = _pks(Member, "member_number", (row.member_number for row in rows))
    _sync(
        ShareMovement,
        label="share movements",
        desired={
            row.reference: {
                "reference": row.reference,
                "member_id": members[row.member_number],
                "booked_on": row.booked_on,
                "kind": row.kind,
                "shares": row.shares,
                "amount": row.amount,
                "business_year": row.business_year,
                "text": row.text,
            }
            for row in rows
        },
        existing=_load(ShareMovement, "reference", (row.reference for row in rows)),
        result=result,
        progress=progress,
        plain_insert=True,
    )
