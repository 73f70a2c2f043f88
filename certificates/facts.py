"""What a certificate says, as plain data (Certificate.facts), and the same
facts as the PDF and the verify page show them.

Read from the member records at the moment of issue and kept with the
certificate: downloading it again, or checking its code years later, shows
what was certified then, whatever changed since (an address, the shares,
the board). Dates are ISO strings, amounts decimal strings: JSON keeps
them exactly."""

import datetime
from decimal import Decimal

from django.utils.formats import number_format

from cooperative.letterhead import letterhead_facts
from cooperative.models import Cooperative
from core.dates import date_long
from members.models import LeavingReason, Member, Shareholding
from members.selectors import residences

# Facts shape; add keys, never rename them (old certificates keep theirs).
VERSION = 1


def member_address(member: Member) -> list[str]:
    """The postal address on file, else the flat the member lives in."""
    if member.street:
        return [member.street, f"{member.postcode} {member.city}".strip()]
    for residence in residences(member):
        building = residence.contract.unit.building
        return [building.address_line, f"{building.postcode} {building.city}"]
    return []


def certificate_facts(
    *, member: Member, cooperative: Cooperative, purpose: str, on: datetime.date
) -> dict:
    """The facts of a certificate issued on `on`, for both kinds: the
    members' list holds the same entries the membership certificate
    summarises (GenG § 30: name, address, joining, shares, leaving)."""
    holdings = sorted(member.shareholdings.all(), key=lambda holding: holding.kind)
    return {
        "version": VERSION,
        "cooperative": letterhead_facts(cooperative),
        "member": {
            "number": member.member_number,
            "salutation": member.salutation,
            "title": member.title,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "full_name": member.full_name,
            "address": member_address(member),
            "joined_on": member.joined_on.isoformat(),
            "left_on": member.left_on.isoformat() if member.left_on else None,
            "left_reason": member.left_reason,
        },
        "shares": [
            {
                "kind": holding.kind,
                "count": holding.count,
                "nominal_value": str(holding.nominal_value),
                "total": str(holding.total),
            }
            for holding in holdings
        ],
        "shares_count": sum(holding.count for holding in holdings),
        "shares_total": str(sum((holding.total for holding in holdings), Decimal("0"))),
        "purpose": purpose,
        "as_of": on.isoformat(),
    }


def _money(value: str) -> str:
    """1.234,56 € / €1,234.56 as the active language writes amounts."""
    return number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)


def shown(facts: dict) -> dict:
    """The facts as the reader's language writes them (call it inside
    translation.override): dates in words, amounts with two decimals,
    share kinds named."""
    member = facts["member"]
    joined = datetime.date.fromisoformat(member["joined_on"])
    left = datetime.date.fromisoformat(member["left_on"]) if member["left_on"] else None
    as_of = datetime.date.fromisoformat(facts["as_of"])
    kinds = dict(Shareholding.Kind.choices)
    return {
        "name": member["full_name"],
        "number": member["number"],
        "address": member["address"],
        "joined": date_long(joined),
        "left": date_long(left) if left else "",
        # Facts stored before the reason was kept have none.
        "left_reason": str(LeavingReason(member["left_reason"]).label)
        if member.get("left_reason")
        else "",
        # Left before the day of issue: the certificate speaks in the past.
        "has_left": left is not None and left < as_of,
        "leaves": left is not None and left >= as_of,
        "shares": [
            {
                "kind": str(kinds.get(share["kind"], share["kind"])),
                "count": share["count"],
                "nominal_value": _money(share["nominal_value"]),
                "total": _money(share["total"]),
            }
            for share in facts["shares"]
        ],
        "shares_count": facts["shares_count"],
        "shares_total": _money(facts["shares_total"]),
        "purpose": facts["purpose"],
        "as_of": date_long(as_of),
        "cooperative": facts["cooperative"]["name"],
    }
