"""Reading notices: which ones a member sees (the notices for the
buildings they live in now, from the day they moved in), what staff see in
the back office (every notice), and who may publish one."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
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


@dataclass
class StaffNotices:
    drafts: list[Notice] = field(default_factory=list)
    current: list[Notice] = field(default_factory=list)
    upcoming: list[Notice] = field(default_factory=list)
    past: list[Notice] = field(default_factory=list)


def notices_for_staff(user, *, now: datetime.datetime | None = None) -> StaffNotices:
    """The back office's list: drafts, current, announced (upcoming), and
    those ended or withdrawn in the last PAST_DAYS — one query and one for
    the buildings."""
    if not user.is_staff:
        raise Http404
    now = now or timezone.now()
    before = now - datetime.timedelta(days=PAST_DAYS)
    rows = (
        Notice.objects.filter(
            Q(withdrawn_at__isnull=True, valid_until__isnull=True)
            | Q(withdrawn_at__isnull=True, valid_until__gt=before)
            | Q(withdrawn_at__gt=before)
        )
        .select_related("estate")
        .prefetch_related("buildings")
        .order_by("valid_from", "pk")
    )
    found = StaffNotices()
    lists = {
        NoticeState.DRAFT: found.drafts,
        NoticeState.CURRENT: found.current,
        NoticeState.UPCOMING: found.upcoming,
        NoticeState.ENDED: found.past,
        NoticeState.WITHDRAWN: found.past,
    }
    for notice in rows:
        lists[notice.state(now)].append(notice)
    found.past.sort(key=lambda n: n.withdrawn_at or n.valid_until, reverse=True)
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
