"""Reading notices: which ones a member sees (the notices for the
buildings they live in now, from the day they moved in), what staff see in
the back office (every notice), and who may publish one."""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Case, Count, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from cooperative.models import Estate
from members.selectors import residences
from notices.models import Notice, NoticeState

# Ended notices stay on the member's page this long ("recent"), and in the
# back office's "past" list.
RECENT_DAYS = 30
PAST_DAYS = 90


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def resident_places(member) -> list[tuple[int, int, datetime.datetime]]:
    """(building, estate, since) of each flat the member lives in today:
    since is local midnight of the day they are on its contract."""
    return [
        (
            residence.contract.unit.building_id,
            residence.contract.unit.building.estate_id,
            _midnight(residence.since),
        )
        for residence in residences(member)
    ]


def notices_visible_to_member(member):
    """Every published notice for the member's buildings, of any time since
    they live there (the page narrows it down to current and recent)."""
    return Notice.objects.published().for_places(resident_places(member))


@dataclass
class MemberNotices:
    current: list[Notice] = field(default_factory=list)  # in force or announced
    recent: list[Notice] = field(default_factory=list)  # ended in the last RECENT_DAYS


def notices_for_member(
    member, *, now: datetime.datetime | None = None, recent: bool = True
) -> MemberNotices:
    """The member's notices in force or announced (the soonest first) and,
    with `recent`, those ended in the last RECENT_DAYS (the latest first);
    one query after the member's flats."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=RECENT_DAYS) if recent else now
    rows = (
        notices_visible_to_member(member)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=since))
        .order_by("valid_from", "pk")
    )
    found = MemberNotices()
    for notice in rows:
        if notice.valid_until is None or notice.valid_until > now:
            found.current.append(notice)
        else:
            found.recent.append(notice)
    found.recent.reverse()
    return found


# Staff ---------------------------------------------------------------------------------
#
# Every staff member sees every notice and writes drafts: a notice is
# public to the residents it is for, and whoever takes the call about a
# water shut-off should be able to read it. Publishing (and withdrawing)
# is for team leads, admins and the estate's property manager or
# caretaker: the people answerable for what the residents of the estate
# are told.


def leads_or_admin(user) -> bool:
    return user.is_staff and user.is_lead_or_admin


def may_publish(user, estate: Estate) -> bool:
    """Whether this person may publish or withdraw notices for `estate`."""
    if not user.is_staff:
        return False
    if user.pk in (estate.property_manager_id, estate.caretaker_id):
        return True
    return leads_or_admin(user)


# A page of the back office's list. The list is bounded in time, not in
# number: 90 days of every estate's notices at a few a week each are
# hundreds (bench/notices_incidents.py: 13 estates, 5 a week — 1,136
# notices, 350 KB on one page, 430-540 ms of CPU to render; 50: ~32 ms).
PAGE_SIZE = 50
# The list's sections, in their order on the page.
DRAFT, CURRENT, UPCOMING, PAST = range(4)


@dataclass
class StaffNotices:
    page: Page  # the notices of this page, section after section
    drafts: list[Notice] = field(default_factory=list)  # of this page
    current: list[Notice] = field(default_factory=list)
    upcoming: list[Notice] = field(default_factory=list)
    past: list[Notice] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # each section's, every page


def notices_for_staff(
    user, *, page: str | int | None = None, now: datetime.datetime | None = None
) -> StaffNotices:
    """The back office's list: drafts, current, announced (upcoming), and
    those ended or withdrawn in the last PAST_DAYS (the latest first),
    PAGE_SIZE at a time in that order. A page number past the end gives the
    last page, nonsense the first. Three queries: the sections' counts, the
    page, its buildings."""
    if not user.is_staff:
        raise Http404
    now = now or timezone.now()
    before = now - datetime.timedelta(days=PAST_DAYS)
    section = Case(
        When(published_at__isnull=True, then=Value(DRAFT)),
        When(Q(withdrawn_at__isnull=False) | Q(valid_until__lte=now), then=Value(PAST)),
        When(valid_from__gt=now, then=Value(UPCOMING)),
        default=Value(CURRENT),
    )
    listed = Notice.objects.filter(
        Q(withdrawn_at__isnull=True, valid_until__isnull=True)
        | Q(withdrawn_at__isnull=True, valid_until__gt=before)
        | Q(withdrawn_at__gt=before)
    ).annotate(section=section)
    names = {DRAFT: "drafts", CURRENT: "current", UPCOMING: "upcoming", PAST: "past"}
    counts = dict.fromkeys(names.values(), 0)
    for row in listed.values("section").annotate(n=Count("pk")).order_by():
        counts[names[row["section"]]] = row["n"]
    # Past ones by when they ended or were withdrawn, the latest first;
    # the others by when they begin.
    past = Q(section=PAST)
    rows = (
        listed.select_related("estate")
        .prefetch_related("buildings")
        .order_by(
            "section",
            Case(When(past, then=None), default=F("valid_from")).asc(),
            Case(When(past, then=Coalesce("withdrawn_at", "valid_until"))).desc(nulls_last=True),
            "pk",
        )
    )
    pages = Paginator(rows, PAGE_SIZE)
    pages.count = sum(counts.values())  # known: the paginator need not count again
    found = StaffNotices(page=pages.get_page(page), counts=counts)
    lists = {
        NoticeState.DRAFT: found.drafts,
        NoticeState.CURRENT: found.current,
        NoticeState.UPCOMING: found.upcoming,
        NoticeState.ENDED: found.past,
        NoticeState.WITHDRAWN: found.past,
    }
    for notice in found.page:
        lists[notice.state(now)].append(notice)
    return found


def get_notice_for_staff(user, public_id) -> Notice:
    """One notice for the back office; 404 for anyone but staff."""
    if not user.is_staff:
        raise Http404
    notice = (
        Notice.objects.filter(public_id=public_id)
        .select_related("estate", "created_by", "published_by", "withdrawn_by")
        .prefetch_related("buildings")
        .first()
    )
    if notice is None:
        raise Http404
    return notice


def estates_with_buildings():
    """The estates and their buildings, for the notice form's choices."""
    return Estate.objects.prefetch_related("buildings").order_by("name")
