from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch

from members.models import Contract, Member, Shareholding


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


def member_overview(member: Member) -> MemberOverview:
    """The membership part of "Mein Bereich", in a fixed number of queries."""
    shareholdings = list(member.shareholdings.all())
    contracts = (
        Contract.objects.current()
        .filter(members=member)
        .select_related("unit__building__estate")
        .prefetch_related(
            Prefetch("members", queryset=Member.objects.exclude(pk=member.pk), to_attr="others")
        )
        .order_by("start")
    )
    return MemberOverview(
        member=member,
        shareholdings=shareholdings,
        shares_count=sum(s.count for s in shareholdings),
        shares_total=sum((s.total for s in shareholdings), Decimal("0")),
        contracts=[ContractView(contract=c, co_members=c.others) for c in contracts],
    )
