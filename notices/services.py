"""Writing notices: drafts, publishing, withdrawing, and the e-mail to
residents who asked for it.

Who may: every staff member writes and edits drafts; team leads, admins
and the estate's property manager or caretaker publish and withdraw
(notices.selectors.may_publish) — see docs/architecture.md. A published
notice is not edited: what residents were told (and e-mailed) stays as
it was; a correction is a new notice, the old one withdrawn.

`notice_publish` takes a saved draft, or the content itself (an incident
will publish one in a click): one transaction, the e-mails by a task
after commit. The task (`notice_deliver`) e-mails each opted-in resident
once: a NoticeDelivery row per account, unique per notice, written in the
same transaction as the e-mail in the outbox, so a retried or doubled task
sends nobody anything twice; 5,000 residents are never e-mailed in the
request."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from accounts.models import User
from cooperative.models import Building, Estate
from core.links import absolute_url
from mail.services import email_delivery_batch, email_queue
from members.models import Contract, ContractMember
from notices.models import Notice, NoticeDelivery, NoticeKind
from notices.selectors import may_publish

TITLE_MAX = 200
TEXT_MAX = 5000
# Accounts e-mailed per transaction batch: each batch's e-mails go out by
# one delivery task (mail.services.email_delivery_batch).
DELIVERY_BATCH = 200


class NoticeError(Exception):
    """A notice that cannot be saved, published or withdrawn; the message
    is safe to show, keyed by the form field it is about (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NoticeNotAllowed(NoticeError):
    """The person may not publish or withdraw notices for this estate."""


@dataclass
class NoticeContent:
    """What a notice says and for whom: an estate, and optionally some of
    its buildings (none: the whole estate). The estate may be left out when
    buildings are given (theirs is taken)."""

    kind: str
    title_de: str
    text_de: str
    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None = None
    title_en: str = ""
    text_en: str = ""
    estate: Estate | None = None
    buildings: list[Building] = field(default_factory=list)


def notice_check(content: NoticeContent) -> NoticeContent:
    """The content, tidied, or NoticeError with the first problem (the
    form shows each under its field; the service refuses the same)."""
    content.title_de = " ".join(content.title_de.split())
    content.title_en = " ".join(content.title_en.split())
    content.text_de = content.text_de.strip()
    content.text_en = content.text_en.strip()
    if content.kind not in NoticeKind.values:
        raise NoticeError(_("Please choose what the notice is about."), "kind")
    if not content.title_de:
        raise NoticeError(_("Please give the notice a title."), "title_de")
    if len(content.title_de) > TITLE_MAX or len(content.title_en) > TITLE_MAX:
        raise NoticeError(
            _("Please keep the title to %(count)s characters.") % {"count": TITLE_MAX},
            "title_de",
        )
    if not content.text_de:
        raise NoticeError(_("Please write what the residents should know."), "text_de")
    if len(content.text_de) > TEXT_MAX or len(content.text_en) > TEXT_MAX:
        raise NoticeError(
            _("Please keep the text to %(count)s characters.") % {"count": TEXT_MAX}, "text_de"
        )
    estates = {building.estate_id for building in content.buildings}
    if content.estate is None and len(estates) == 1:
        content.estate = content.buildings[0].estate
    if content.estate is None:
        raise NoticeError(_("Please choose the estate or the buildings."), "estate")
    if estates - {content.estate.pk}:
        raise NoticeError(_("Please choose buildings of the chosen estate only."), "buildings")
    if content.valid_from is None:
        raise NoticeError(
            _("Please give the day and time from which the notice holds."), "valid_from"
        )
    if content.valid_until is not None and content.valid_until <= content.valid_from:
        raise NoticeError(_("The end must be after the start."), "valid_until")
    return content


def _write(notice: Notice, content: NoticeContent) -> Notice:
    for name in ("kind", "title_de", "title_en", "text_de", "text_en", "estate"):
        setattr(notice, name, getattr(content, name))
    notice.valid_from = content.valid_from
    notice.valid_until = content.valid_until
    notice.save()
    notice.buildings.set(content.buildings)
    return notice


def notice_draft_save(
    *, actor: User, content: NoticeContent, notice: Notice | None = None
) -> Notice:
    """Save a new draft, or change one (any staff member). A published
    notice is not changed: NoticeError."""
    if not actor.is_staff:
        raise NoticeNotAllowed(_("Only staff write notices."))
    content = notice_check(content)
    with transaction.atomic():
        if notice is None:
            notice = Notice(created_by=actor)
        else:
            notice = Notice.objects.select_for_update().get(pk=notice.pk)
            if not notice.is_draft():
                raise NoticeError(
                    _(
                        "This notice is published and can no longer be changed. Withdraw it "
                        "and publish a corrected one."
                    )
                )
        return _write(notice, content)


def notice_publish(
    *,
    actor: User,
    notice: Notice | None = None,
    content: NoticeContent | None = None,
    now: datetime.datetime | None = None,
) -> Notice:
    """Publish a saved draft (`notice`), or new content in one step
    (`content`: what an incident will do). Residents see it at once;
    those who asked for notices by e-mail get one, sent by a task after
    commit. NoticeNotAllowed for someone who may not publish for the
    estate, NoticeError for a notice that is not a draft or already
    over."""
    now = now or timezone.now()
    if (notice is None) == (content is None):
        raise ValueError("give a saved notice or the content of a new one")
    with transaction.atomic():
        if notice is None:
            content = notice_check(content)
            if not may_publish(actor, content.estate):
                raise NoticeNotAllowed(_("You may not publish notices for this estate."))
            notice = _write(Notice(created_by=actor), content)
        else:
            notice = Notice.objects.select_for_update().select_related("estate").get(pk=notice.pk)
            if not may_publish(actor, notice.estate):
                raise NoticeNotAllowed(_("You may not publish notices for this estate."))
            if not notice.is_draft():
                raise NoticeError(_("This notice is already published."))
        if notice.valid_until is not None and notice.valid_until <= now:
            raise NoticeError(
                _("This notice would already be over. Please change its end first."), "valid_until"
            )
        notice.published_at = now
        notice.published_by = actor
        notice.save(update_fields=["published_at", "published_by", "updated_at"])
        pk = notice.pk
        transaction.on_commit(lambda: notice_deliver.enqueue(pk))
    return notice


def notice_withdraw(*, actor: User, notice: Notice, now: datetime.datetime | None = None) -> Notice:
    """Take a published notice down: residents no longer see it (e-mails
    already sent stay sent; one not yet sent is not)."""
    now = now or timezone.now()
    with transaction.atomic():
        notice = Notice.objects.select_for_update().select_related("estate").get(pk=notice.pk)
        if not may_publish(actor, notice.estate):
            raise NoticeNotAllowed(_("You may not withdraw notices for this estate."))
        if notice.is_draft() or notice.withdrawn_at is not None:
            raise NoticeError(_("This notice is not published."))
        notice.withdrawn_at = now
        notice.withdrawn_by = actor
        notice.save(update_fields=["withdrawn_at", "withdrawn_by", "updated_at"])
    return notice


# E-mail ----------------------------------------------------------------------------------


def notice_recipients(notice: Notice, *, now: datetime.datetime | None = None):
    """The accounts to e-mail this notice: active member accounts that
    asked for notices by e-mail, of members with a current contract in a
    building it is for, not yet e-mailed it."""
    now = now or timezone.now()
    homes = ContractMember.objects.filter(contract__in=Contract.objects.current(now.date()))
    building_ids = [building.pk for building in notice.buildings.all()]
    if building_ids:
        homes = homes.filter(contract__unit__building_id__in=building_ids)
    else:
        homes = homes.filter(contract__unit__building__estate_id=notice.estate_id)
    return (
        User.objects.filter(
            is_active=True,
            notices_by_email=True,
            member_id__in=homes.values("member_id"),
        )
        .exclude(pk__in=NoticeDelivery.objects.filter(notice=notice).values("user_id"))
        .order_by("pk")
    )


def _email(notice: Notice, user: User) -> bool:
    """One account's e-mail of the notice, claimed by its delivery row in
    the same transaction: a second run finds the row and sends nothing."""
    with transaction.atomic():
        delivery, created = NoticeDelivery.objects.get_or_create(notice=notice, user=user)
        if not created:
            return False
        delivery.email = email_queue(
            to=user.email,
            template="notices/email/published",
            context={
                "notice": notice,
                "member": user.member,
                "starts": timezone.localtime(notice.valid_from),
                "ends": timezone.localtime(notice.valid_until) if notice.valid_until else None,
                "link": absolute_url("notices:list"),
            },
            language=user.language or settings.LANGUAGE_CODE,
        )
        delivery.save(update_fields=["email"])
    return True


def _batches(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def notices_email(*, notice_id: int, now: datetime.datetime | None = None) -> int:
    """E-mail a published notice to every resident who asked for it and
    has not had it; nothing for a draft, a withdrawn or an ended notice.
    Returns how many e-mails were queued."""
    now = now or timezone.now()
    notice = (
        Notice.objects.published()
        .not_ended(now)
        .select_related("estate")
        .prefetch_related("buildings")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        return 0
    ids = list(notice_recipients(notice, now=now).values_list("pk", flat=True))
    sent = 0
    for batch in _batches(ids, DELIVERY_BATCH):
        with email_delivery_batch():
            for user in User.objects.filter(pk__in=batch).select_related("member"):
                sent += _email(notice, user)
    return sent


@task()
def notice_deliver(notice_id: int) -> int:
    """The task enqueued when a notice is published."""
    return notices_email(notice_id=notice_id)
