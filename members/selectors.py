import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils import timezone

from cooperative.models import Building, Unit
from core.folding import Digits, SearchText
from core.request_cache import request_cached
from core.text import fold
from members.models import Contract, ContractMember, Member, Shareholding, ShareMovement
from members.shares import business_year_end, next_business_year_end


@dataclass(frozen=True)
class ContractView:
    contract: Contract
    co_members: list[Member]


@dataclass(frozen=True)
class MemberOverview:
    member: Member
    shareholdings: list[Shareholding]
    shares_count: int
    shares_total: Decimal
    contracts: list[ContractView]


@dataclass(frozen=True)
class Residence:
    """A current contract of the member (unit, building and estate loaded)
    and the day the member is on it: the day they joined a running
    contract, else its start."""

    contract: Contract
    since: datetime.date


def residences(member: Member) -> list[Residence]:
    """Where the member lives today. Read once per request
    (core.request_cache): Mein Bereich, the household's requests
    (tickets.models.household_places) and the notices for the member's
    buildings all start from the same few rows."""
    return request_cached(("residences", member.pk), lambda: _residences(member))


def _residences(member: Member) -> list[Residence]:
    rows = (
        ContractMember.objects.filter(member=member, contract__in=Contract.objects.current())
        .select_related("contract__unit__building__estate")
        .order_by("contract__start", "contract__number")
    )
    return [
        Residence(contract=row.contract, since=row.joined or row.contract.start) for row in rows
    ]


def member_overview(member: Member) -> MemberOverview:
    """The membership part of "Mein Bereich", in a fixed number of queries."""
    shareholdings = list(member.shareholdings.all())
    contracts = [residence.contract for residence in residences(member)]
    prefetch_related_objects(
        contracts,
        Prefetch("members", queryset=Member.objects.exclude(pk=member.pk), to_attr="others"),
    )
    return MemberOverview(
        member=member,
        shareholdings=shareholdings,
        shares_count=sum(s.count for s in shareholdings),
        shares_total=sum((s.total for s in shareholdings), Decimal("0")),
        contracts=[ContractView(contract=c, co_members=c.others) for c in contracts],
    )


# --- finding a member (the phone and counter log) -----------------------------

SEARCH_LIMIT = 20
# Longer input is cut: no name, address or number is that long, and each
# word costs a condition.
SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 6
SEARCH_MIN_CHARS = 2
# Matches ranked in Python; a query that matches more says too little to
# rank (the first ones by name are listed, and "more" asks for more words).
SEARCH_CANDIDATES = 200
PHONE_MIN_DIGITS = 5
_WORD = re.compile(r"[^\W_]+")
# Only what people put into a phone number: then the digits are also
# compared as one number, whatever the spaces ("030 555 0001", "+49 30 5550001").
_PHONE_LIKE = re.compile(r"\+?[\d\s()/.\-]+")


@dataclass(frozen=True)
class MemberHit:
    member: Member
    # The current contract (unit, building and household loaded), if any.
    contract: Contract | None
    household: list[Member]
    is_active: bool


@dataclass(frozen=True)
class MemberSearch:
    hits: list[MemberHit]
    # More members matched than were listed: the query should say more.
    more: bool
    # False when the query had too little to search for (nothing listed).
    searched: bool


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _phone_core(query: str) -> str:
    """The national number without its leading zero, so that "030 5550001",
    "+49 30 5550001" and "0049305550001" all find "030 5550001" and
    "+49 (30) 555-0001"; "" if the query is not a phone number."""
    query = query.strip()
    if not _PHONE_LIKE.fullmatch(query):
        return ""
    digits = re.sub(r"\D", "", query)
    if digits.startswith("0049"):
        digits = digits[4:]
    elif query.startswith("+49"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= PHONE_MIN_DIGITS else ""


def _pattern(word: str) -> str:
    # A house or floor number alone ("Nordring 1") must be a whole word, or
    # every member number and phone number with that digit would match.
    return f" {word} " if word.isdigit() and len(word) < 3 else word


def _unit_words(contract: Contract | None) -> list[str]:
    if contract is None:
        return []
    unit, building = contract.unit, contract.unit.building
    return _words(
        f"{unit.number} {unit.position} {building.street} {building.house_number} "
        f"{building.postcode} {building.city}"
    )


def _score(member: Member, contract, *, query: str, words: list[str], phone: str) -> int:
    """How well a matching member fits: the exact member number first, then
    the phone number, then names beginning with the words (the last name
    before the first), then whole words of the address; current members
    before former ones."""
    score = 100 if member.member_number == query.strip() else 0
    if phone and phone in re.sub(r"\D", "", member.phone):
        score += 50
    if member.is_active_member():
        score += 2
    last = _words(member.last_name)
    names = last + _words(f"{member.first_name} {member.title}")
    place = set(_words(f"{member.street} {member.postcode} {member.city}"))
    place |= set(_unit_words(contract))
    for word in words:
        if last and last[0].startswith(word):
            score += 8
        elif any(name.startswith(word) for name in names):
            score += 4
        elif word in place:
            score += 2
        else:
            score += 1
    return score


def members_search(*, query: str, limit: int = SEARCH_LIMIT) -> MemberSearch:
    """Members by name, postal address, current unit (number, position,
    building address), phone number or member number, for staff taking a
    call. Every word of the query must be found somewhere (the words are
    AND-ed, in any order); text is compared folded (core.folding: umlauts,
    case and accents do not matter); a phone number also matches with other
    spacing or with the country code. Ranked by _score(); at most `limit`
    hits, in three queries however many there are (the members, their
    current contracts, the households)."""
    query = (query or "")[:SEARCH_MAX_CHARS]
    words = list(dict.fromkeys(_words(query)))[:SEARCH_MAX_WORDS]
    if sum(len(word) for word in words) < SEARCH_MIN_CHARS:
        return MemberSearch(hits=[], more=False, searched=False)
    today = timezone.localdate()
    # The member's own text: " ahrens alice 20001 nordring 1 … 030 5550001 ".
    hay = SearchText(
        "last_name",
        "first_name",
        "title",
        "member_number",
        "street",
        "postcode",
        "city",
        "phone",
    )
    found = Q()
    for word in words:
        pattern = _pattern(word)
        # The unit: its number and position as typed (codes and "2. OG
        # links"), its building's address folded; buildings are few. An
        # uncorrelated subquery, which the database runs once per word.
        buildings = Building.objects.alias(
            hay=SearchText("street", "house_number", "postcode", "city")
        ).filter(hay__contains=pattern)
        units = Unit.objects.filter(
            Q(number__istartswith=word) | Q(position__icontains=word) | Q(building__in=buildings)
        )
        living_there = ContractMember.objects.filter(
            contract__in=Contract.objects.current(today).filter(unit__in=units)
        ).values("member_id")
        matches = Q(hay__contains=pattern) | Q(pk__in=living_there)
        if word.isdigit() and len(word) >= 3:
            matches |= Q(phone_digits__contains=word)  # "0305550001" for "030 5550001"
        found &= matches
    phone = _phone_core(query)
    if phone:
        found |= Q(phone_digits__contains=phone)
    candidates = list(
        _with_current_contracts(
            Member.objects.alias(hay=hay, phone_digits=Digits("phone"))
            .filter(found)
            .order_by("last_name", "first_name", "member_number"),
            today,
        )[: SEARCH_CANDIDATES + 1]
    )
    more = len(candidates) > limit
    ranked = []
    for member in candidates[:SEARCH_CANDIDATES]:
        contract = member.current_contracts[0] if member.current_contracts else None
        score = _score(member, contract, query=query, words=words, phone=phone)
        ranked.append((-score, member))
    ranked.sort(key=lambda row: row[0])  # stable: equal scores stay in name order
    hits = [_hit(member, today) for _score_, member in ranked[:limit]]
    return MemberSearch(hits=hits, more=more, searched=True)


def _with_current_contracts(members, today):
    return members.prefetch_related(
        Prefetch(
            "contracts",
            queryset=Contract.objects.current(today)
            .select_related("unit__building__estate")
            .prefetch_related("members")
            .order_by("start"),
            to_attr="current_contracts",
        )
    )


def _hit(member: Member, today) -> MemberHit:
    contract = member.current_contracts[0] if member.current_contracts else None
    return MemberHit(
        member=member,
        contract=contract,
        household=[m for m in contract.members.all() if m.pk != member.pk] if contract else [],
        is_active=member.is_active_member(today),
    )


def member_for_call(member_number: str) -> MemberHit | None:
    """One member as the search lists them (current unit, household), by
    member number; None if there is none. Three queries."""
    today = timezone.localdate()
    member = _with_current_contracts(
        Member.objects.filter(member_number=member_number), today
    ).first()
    return _hit(member, today) if member else None


def contract_with_household(member) -> Contract | None:
    """The member's current contract (the latest, if several) with its flat,
    building, estate and, as `household`, everyone on it: one query, a row
    per person on the contract."""
    latest = Contract.objects.current().filter(members=member).values("pk")[:1]
    rows = list(
        ContractMember.objects.filter(contract=Subquery(latest))
        .select_related("member", "contract__unit__building__estate")
        .order_by("member__last_name", "member__first_name", "member__member_number")
    )
    if not rows:
        return None
    contract = rows[0].contract
    contract.household = [row.member for row in rows]
    return contract


# --- who wrote it? (a message from an address that is not on file) ----------

MENTION_LIMIT = 5
# Not a part of a date, an amount or a longer number ("12.03.2026", "1.500,00 €").
_MEMBER_NUMBER = re.compile(r"(?<![\d.,/-])\d{4,12}(?!\d|[.,/-]\d|\s*(?:€|EUR|Euro))")
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]*(?:-[^\W\d_]+)*")
_MENTION_WORDS = 400


@dataclass(frozen=True)
class MemberMention:
    member: Member
    # Why it is suggested, strongest first: "number", "name", "address".
    reasons: tuple[str, ...]


def members_mentioned(*, text: str, name: str = "") -> list[MemberMention]:
    """Members a message from an unknown address may be from: its member
    numbers, the sender's name or a name in the text (first and last name
    both), a street address where members live now. Only suggestions for
    staff to confirm — an address not on file is never linked by this.
    One query, whatever the text."""
    text = text[:20000]
    reasons: dict[int, list[str]] = {}
    members: dict[int, Member] = {}

    def note(found, reason: str) -> None:
        for member in found:
            members[member.pk] = member
            reasons.setdefault(member.pk, [])
            if reason not in reasons[member.pk]:
                reasons[member.pk].append(reason)

    numbers = list(dict.fromkeys(_MEMBER_NUMBER.findall(text)))[:20]
    words = list(dict.fromkeys(_NAME_WORD.findall(f"{name} {text}")))[:_MENTION_WORDS]
    folded = {fold(word) for word in words}
    # Names as people write them (capitalised): the last-name index answers.
    capitalised = [w for w in words if w[:1].isupper() and len(w) > 1]
    # Where members live now, when the text names the building's address
    # (" nordring 1 " in the text's words, folded alike in the database:
    # "Nordring 1.", "NORDRING 1" and "Nordring 1, 2. OG" all find it).
    plain = " " + " ".join(_words(text)) + " "
    buildings = Building.objects.alias(
        address=SearchText("street", "house_number"), text=Value(plain)
    ).filter(text__contains=F("address"))
    living = ContractMember.objects.filter(
        contract__in=Contract.objects.current().filter(unit__building__in=buildings)
    ).values("member_id")
    # Everything in one query: the candidates, and which of them live there.
    candidates = list(
        Member.objects.annotate(
            lives_there=Case(When(pk__in=living, then=True), default=False)
        ).filter(Q(member_number__in=numbers) | Q(last_name__in=capitalised) | Q(pk__in=living))[
            :200
        ]
    )
    residents = []
    for member in candidates:
        if member.member_number in numbers:
            note([member], "number")
        if member.last_name in capitalised and set(_words(member.first_name)) & folded:
            note([member], "name")
        if member.lives_there:
            residents.append(member)
    # Several households live at one address: the sender's name decides
    # when it is there; else all of them (at most a few) are offered.
    named = [m for m in residents if fold(m.last_name) in folded]
    note(named or residents[: MENTION_LIMIT * 4], "address")
    order = {"number": 0, "name": 1, "address": 2}
    ranked = sorted(
        members.values(),
        key=lambda m: (
            -sum(3 - order[r] for r in reasons[m.pk]),
            m.last_name,
            m.first_name,
            m.member_number,
        ),
    )
    return [
        MemberMention(member=m, reasons=tuple(sorted(reasons[m.pk], key=order.get)))
        for m in ranked[:MENTION_LIMIT]
    ]


def get_member_for_staff(member_number: str) -> Member:
    """A member by number for staff acting for a caller (booking an
    appointment or a room); any staff member may, so no further check;
    404 for an unknown number."""
    member = Member.objects.select_related("user").filter(member_number=member_number[:20]).first()
    if member is None:
        raise Http404
    return member


# --- the membership's shares and their history ---------------------------------


@dataclass(frozen=True)
class ShareFacts:
    """A member's shares today: the compulsory and voluntary ones as the
    ERP's members file says (Shareholding), the value of one share, and the
    Geschäftsguthaben — what has been paid in — from the share movements
    (ShareMovement), when the ERP delivers them."""

    required: int
    voluntary: int
    share_value: Decimal | None
    # None: no movements imported, so the portal does not know the balance.
    balance: Decimal | None

    @property
    def shares(self) -> int:
        return self.required + self.voluntary

    @property
    def required_value(self) -> Decimal:
        return self.required * (self.share_value or Decimal("0"))

    @property
    def voluntary_value(self) -> Decimal:
        return self.voluntary * (self.share_value or Decimal("0"))

    @property
    def subscribed(self) -> Decimal:
        """What the shares are worth together (the Geschäftsanteile)."""
        return self.shares * (self.share_value or Decimal("0"))

    @property
    def outstanding(self) -> Decimal:
        """Still to be paid in (0 when the shares are paid up)."""
        if self.balance is None:
            return Decimal("0")
        return max(self.subscribed - self.balance, Decimal("0"))


def _sum(queryset, expression):
    return Subquery(
        queryset.order_by().values("member").annotate(total=Sum(expression)).values("total")[:1]
    )


def share_facts(member: Member) -> ShareFacts:
    """The member's shares and balance (ShareFacts), in one query."""
    holdings = Shareholding.objects.filter(member=OuterRef("pk"))
    movements = ShareMovement.objects.filter(member=OuterRef("pk"))
    row = (
        Member.objects.filter(pk=member.pk)
        .annotate(
            required=Subquery(holdings.filter(kind=Shareholding.Kind.REQUIRED).values("count")[:1]),
            voluntary=Subquery(
                holdings.filter(kind=Shareholding.Kind.VOLUNTARY).values("count")[:1]
            ),
            # Both kinds carry the same nominal value (the import sets one
            # Anteilswert per member); the compulsory one first.
            share_value=Subquery(holdings.order_by("kind").values("nominal_value")[:1]),
            balance=_sum(movements, ShareMovement.objects.balance_change()),
            movements=Subquery(
                movements.order_by().values("member").annotate(n=Count("pk")).values("n")[:1]
            ),
        )
        .values("required", "voluntary", "share_value", "balance", "movements")
        .get()
    )
    return ShareFacts(
        required=row["required"] or 0,
        voluntary=row["voluntary"] or 0,
        share_value=row["share_value"],
        balance=(row["balance"] or Decimal("0")) if row["movements"] else None,
    )


@dataclass(frozen=True)
class MovementRow:
    movement: ShareMovement
    shares_after: int
    balance_after: Decimal


@dataclass(frozen=True)
class YearEndRow:
    """The shares and the balance at the end of a business year (or today)."""

    day: datetime.date
    shares: int
    balance: Decimal
    is_today: bool = False


@dataclass(frozen=True)
class DividendRow:
    business_year: int
    credited: Decimal
    paid: Decimal

    @property
    def total(self) -> Decimal:
        return self.credited + self.paid


@dataclass(frozen=True)
class ShareHistory:
    facts: ShareFacts
    movements: list[MovementRow]
    year_ends: list[YearEndRow]
    dividends: list[DividendRow]


def share_history(member: Member, *, end_month: int, today: datetime.date) -> ShareHistory:
    """Everything "Meine Mitgliedschaft" shows of the shares, in two queries
    (the facts, the movements): each booking with the shares and balance
    after it, both at the end of every business year since the first
    booking (and today), and the dividends by the business year they are
    for."""
    facts = share_facts(member)
    movements = list(ShareMovement.objects.filter(member=member).order_by("booked_on", "pk"))
    rows, shares, balance = [], 0, Decimal("0")
    for movement in movements:
        shares += movement.shares_change
        balance += movement.balance_change
        rows.append(MovementRow(movement, shares, balance))
    return ShareHistory(
        facts=facts,
        movements=rows,
        year_ends=_year_ends(rows, end_month=end_month, today=today),
        dividends=_dividends(movements),
    )


def _year_ends(rows: list[MovementRow], *, end_month: int, today: datetime.date):
    if not rows:
        return []
    result = []
    end = business_year_end(rows[0].movement.booked_on, end_month=end_month)
    index, shares, balance = 0, 0, Decimal("0")
    while end < today:
        while index < len(rows) and rows[index].movement.booked_on <= end:
            shares, balance = rows[index].shares_after, rows[index].balance_after
            index += 1
        result.append(YearEndRow(end, shares, balance))
        end = next_business_year_end(end, end_month=end_month)
    # Bookings dated after today (a cancellation that takes effect at the
    # end of this year) are not the balance of today.
    while index < len(rows) and rows[index].movement.booked_on <= today:
        shares, balance = rows[index].shares_after, rows[index].balance_after
        index += 1
    result.append(YearEndRow(today, shares, balance, is_today=True))
    return result


def _dividends(movements: list[ShareMovement]) -> list[DividendRow]:
    years: dict[int, list[Decimal]] = {}
    for movement in movements:
        if movement.is_dividend:
            sums = years.setdefault(movement.business_year, [Decimal("0"), Decimal("0")])
            sums[0 if movement.kind == ShareMovement.Kind.DIVIDEND_CREDITED else 1] += (
                movement.amount
            )
    return [DividendRow(year, credited, paid) for year, (credited, paid) in sorted(years.items())]
