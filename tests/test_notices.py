"""Notices (Aushänge, issue 14 point 5): staff write a notice for an
estate or some of its buildings, those who may publish it; residents of
those buildings read it on Mein Bereich and at /aushaenge/ while it holds
(a new tenant nothing from before their time, a member who moved out
nothing of the old building), and residents who asked for it get it by
e-mail once — from a task, never twice."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import User
from cooperative.models import Building, Unit
from demo.notices import notices_demo_ensure
from mail.models import OutboundEmail
from members.models import Contract, ContractMember, Member
from notices.models import Notice, NoticeDelivery, NoticeKind
from notices.selectors import notices_for_member
from notices.services import (
    NoticeContent,
    NoticeError,
    NoticeNotAllowed,
    notice_deliver,
    notice_draft_save,
    notice_publish,
    notice_withdraw,
    notices_email,
)
from notices.templatetags.notice_dates import moment
from tests.helpers import MOST, de, measured, otp_verify, repeated

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
HOME = "/mein-bereich/"
PAGE = "/aushaenge/"
STAFF = "/bearbeitung/aushaenge/"


def _home(member) -> Building:
    return Contract.objects.current().get(members=member).unit.building


def _content(*, title="Wasser wird abgestellt", estate=None, buildings=(), **times):
    now = timezone.now()
    return NoticeContent(
        kind=NoticeKind.WATER,
        title_de=title,
        text_de="Am Dienstag von 8 bis 12 Uhr gibt es kein Wasser.",
        title_en="Water shut-off",
        text_en="On Tuesday from 8 to 12 there is no water.",
        estate=estate,
        buildings=list(buildings),
        valid_from=times.get("valid_from", now - HOUR),
        valid_until=times.get("valid_until", now + 2 * DAY),
    )


def _published(cast, *, actor=None, **kwargs) -> Notice:
    """Published now; one whose times are over already is published as if
    it had been while it held (the service refuses an ended one)."""
    content = _content(**kwargs)
    times = {"valid_from": content.valid_from, "valid_until": content.valid_until}
    if content.valid_until is not None and content.valid_until <= timezone.now():
        content.valid_until = timezone.now() + DAY
    notice = notice_publish(actor=actor or cast.tom, content=content)
    Notice.objects.filter(pk=notice.pk).update(**times)
    notice.refresh_from_db()
    return notice


def _resident(cast, *, building: Building, number: str, start: datetime.date, end=None):
    """A member with an account and a contract for a flat of `building`."""
    unit = Unit.objects.create(
        building=building, number=f"X{number}", floor=0, position="EG", rooms=2, living_area=50
    )
    member = Member.objects.create(
        member_number=number, first_name="Nora", last_name=f"Neu{number}", joined_on=start
    )
    contract = Contract.objects.create(
        number=f"NV-X{number}", unit=unit, start=start, end=end, monthly_fee=400
    )
    ContractMember.objects.create(contract=contract, member=member)
    user = User.objects.create_user(f"n{number}@example.org", "x", member=member)
    return user


@pytest.fixture
def nord(cast):
    alice_building = _home(cast.alice.member)
    neighbour = Building.objects.filter(estate=alice_building.estate).exclude(pk=alice_building.pk)
    return alice_building, neighbour.first()


# Who sees what ---------------------------------------------------------------------------


def test_residents_of_the_building_see_it_others_in_the_estate_only_estate_wide_ones(cast, nord):
    alice_building, neighbour_building = nord
    for_building = _published(cast, title="Nur Nordring 1", buildings=[alice_building])
    for_estate = _published(cast, title="Ganze Anlage", estate=alice_building.estate)
    neighbour = _resident(
        cast, building=neighbour_building, number="30001", start=datetime.date(2020, 1, 1)
    )
    assert notices_for_member(cast.alice.member).current == [for_building, for_estate]
    assert notices_for_member(cast.bob.member).current == [for_building, for_estate]
    assert notices_for_member(neighbour.member).current == [for_estate]
    assert notices_for_member(cast.dave.member).current == []


def test_dave_never_sees_them_on_either_page(client, cast, nord):
    _published(cast, title="Nur Nordring 1", buildings=[nord[0]])
    _published(cast, title="Ganze Anlage", estate=nord[0].estate)
    client.force_login(cast.dave)
    for url in (HOME, PAGE):
        body = client.get(url).content.decode()
        assert "Nordring 1" not in body and "Ganze Anlage" not in body
    assert de("There are no notices for your building at the moment.") in body


def test_alice_sees_it_on_mein_bereich_first_with_its_end(client, cast, nord):
    ends = timezone.localtime(timezone.now() + 2 * DAY).replace(hour=12, minute=0)
    _published(cast, title="Heizung fällt aus", buildings=[nord[0]], valid_until=ends)
    client.force_login(cast.alice)
    body = client.get(HOME).content.decode()
    assert body.index("Heizung fällt aus") < body.index(de("Membership"))
    weekday = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
    assert f"bis {weekday[ends.weekday()]}, 12:00" in body


def test_english_readers_get_the_english_text_or_else_the_german(client, cast, nord):
    _published(cast, buildings=[nord[0]])
    _published(cast, title="Nur deutsch", buildings=[nord[0]])
    Notice.objects.filter(title_de="Nur deutsch").update(title_en="", text_en="")
    cast.alice.language = "en"
    cast.alice.save(update_fields=["language"])
    client.force_login(cast.alice)
    body = client.get(PAGE).content.decode()
    assert "Water shut-off" in body and "Nur deutsch" in body
    assert "Wasser wird abgestellt" not in body


def test_a_new_tenant_does_not_see_what_ended_before_they_moved_in(cast, nord):
    building = nord[0]
    now = timezone.now()
    start = timezone.localdate() - 10 * DAY
    newcomer = _resident(cast, building=building, number="30002", start=start)
    before = _published(
        cast,
        title="Vorher",
        buildings=[building],
        valid_from=now - 25 * DAY,
        valid_until=now - 20 * DAY,
    )
    moving_day = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    at_midnight = _published(
        cast,
        title="Bis zum Einzug",
        buildings=[building],
        valid_from=now - 25 * DAY,
        valid_until=moving_day,
    )
    after = _published(
        cast, title="Danach", buildings=[building], valid_from=now - 15 * DAY, valid_until=now - DAY
    )
    seen = notices_for_member(newcomer.member)
    assert seen.recent == [after]
    # Alice lives there since 2015 and saw all three.
    assert notices_for_member(cast.alice.member).recent == [after, at_midnight, before]


def test_a_member_who_moved_out_no_longer_sees_the_old_buildings_notices(client, cast, nord):
    yesterday = timezone.localdate() - DAY
    gone = _resident(
        cast, building=nord[0], number="30003", start=datetime.date(2010, 1, 1), end=yesterday
    )
    _published(cast, title="Nur Nordring 1", buildings=[nord[0]])
    assert notices_for_member(gone.member).current == []
    client.force_login(gone)
    assert "Nur Nordring 1" not in client.get(PAGE).content.decode()


def test_validity_boundaries(cast, nord):
    now = timezone.now()
    ended = _published(
        cast, title="Endet jetzt", buildings=[nord[0]], valid_from=now - DAY, valid_until=now + HOUR
    )
    coming = _published(
        cast, title="Kommt", buildings=[nord[0]], valid_from=now + DAY, valid_until=now + 2 * DAY
    )
    open_end = _published(
        cast, title="Offen", buildings=[nord[0]], valid_from=now - DAY, valid_until=None
    )
    member = cast.alice.member
    # Until valid_until (exclusive): at the moment itself it has ended.
    found = notices_for_member(member, now=now + HOUR - datetime.timedelta(seconds=1))
    assert ended in found.current
    found = notices_for_member(member, now=now + HOUR)
    assert ended not in found.current and ended in found.recent
    # Announced ones are shown ahead (with "from"); open-ended ones until withdrawn.
    assert coming in found.current and open_end in found.current
    far = notices_for_member(member, now=now + 400 * DAY)
    assert far.current == [open_end] and far.recent == []
    assert coming.state(now) == "upcoming" and coming.state(now + DAY) == "current"


def test_withdrawn_notices_and_drafts_are_not_shown(cast, nord):
    notice = _published(cast, buildings=[nord[0]])
    draft = notice_draft_save(actor=cast.hanna, content=_content(buildings=[nord[0]]))
    notice_withdraw(actor=cast.tom, notice=notice)
    found = notices_for_member(cast.alice.member)
    assert notice not in found.current + found.recent and draft not in found.current
    notice.refresh_from_db()
    assert notice.withdrawn_by == cast.tom and notice.state() == "withdrawn"


def test_staff_have_no_member_notices_page(client, cast):
    client.force_login(cast.hanna)
    assert client.get(PAGE).status_code == 404


def test_the_member_page_refuses_other_methods(client, cast):
    client.force_login(cast.alice)
    assert client.post(PAGE).status_code == 405


def test_the_moment_reads_like_speech():
    now = timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))  # a Tuesday
    at = lambda day, hour: timezone.make_aware(datetime.datetime(2026, 3, day, hour))  # noqa: E731
    assert moment(at(10, 12), now) == "heute, 12:00"
    assert moment(at(11, 12), now) == "morgen, 12:00"
    assert moment(at(13, 12), now) == "Freitag, 12:00"
    assert moment(at(20, 8), now) == "Freitag, 20. März 2026, 08:00"


# Who may publish -----------------------------------------------------------------------


def test_the_property_manager_publishes_for_her_estate_only(cast, nord):
    south = _home(cast.dave.member)
    notice_publish(actor=cast.hanna, content=_content(buildings=[nord[0]]))
    with pytest.raises(NoticeNotAllowed):
        notice_publish(actor=cast.hanna, content=_content(buildings=[south]))
    # … but she may write a draft for it, which a team lead publishes.
    draft = notice_draft_save(actor=cast.hanna, content=_content(buildings=[south]))
    with pytest.raises(NoticeNotAllowed):
        notice_publish(actor=cast.hanna, notice=draft)
    notice_publish(actor=cast.tom, notice=draft)
    assert Notice.objects.published().count() == 2


def test_a_published_notice_is_not_changed_nor_published_twice(cast, nord):
    notice = _published(cast, buildings=[nord[0]])
    with pytest.raises(NoticeError):
        notice_draft_save(actor=cast.tom, notice=notice, content=_content(title="Anders"))
    with pytest.raises(NoticeError):
        notice_publish(actor=cast.tom, notice=notice)
    notice.refresh_from_db()
    assert notice.title_de == "Wasser wird abgestellt"


def test_an_ended_notice_is_not_published(cast, nord):
    now = timezone.now()
    draft = notice_draft_save(
        actor=cast.hanna,
        content=_content(buildings=[nord[0]], valid_from=now - 2 * DAY, valid_until=now - DAY),
    )
    with pytest.raises(NoticeError):
        notice_publish(actor=cast.tom, notice=draft)


def test_staff_publish_and_withdraw_through_the_back_office(client, cast, nord):
    client.force_login(cast.hanna)
    now = timezone.localtime()
    response = client.post(
        STAFF + "neu/",
        {
            "kind": "heating",
            "buildings": [nord[0].pk],
            "valid_from": (now - HOUR).strftime("%Y-%m-%dT%H:%M"),
            "valid_until": (now + DAY).strftime("%Y-%m-%dT%H:%M"),
            "title_de": "Heizung fällt aus",
            "text_de": "Bis morgen.",
        },
    )
    notice = Notice.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{STAFF}{notice.public_id}/"
    assert notice.estate == nord[0].estate and notice.is_draft()
    page = client.get(response["Location"]).content.decode()
    assert "Heizung fällt aus" in page and de("Publish") in page
    confirm = client.get(f"{STAFF}{notice.public_id}/veroeffentlichen/")
    assert confirm.status_code == 200 and de("Publish now") in confirm.content.decode()
    assert client.post(f"{STAFF}{notice.public_id}/veroeffentlichen/").status_code == 302
    notice.refresh_from_db()
    assert notice.published_by == cast.hanna and notice.state() == "current"
    assert client.post(f"{STAFF}{notice.public_id}/zurueckziehen/").status_code == 302
    notice.refresh_from_db()
    assert notice.withdrawn_by == cast.hanna


def test_a_handler_elsewhere_is_told_who_publishes(client, cast):
    south = _home(cast.dave.member)
    draft = notice_draft_save(actor=cast.hanna, content=_content(buildings=[south]))
    client.force_login(cast.hanna)
    page = client.get(f"{STAFF}{draft.public_id}/").content.decode()
    assert de("Publish now") not in page
    response = client.post(f"{STAFF}{draft.public_id}/veroeffentlichen/", follow=True)
    assert (
        de(
            "Notices for this estate are published by its property manager, its caretaker, a team "
            "lead or an admin. Please ask one of them."
        )
        in response.content.decode()
    )
    draft.refresh_from_db()
    assert draft.is_draft()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"valid_until": -2}, "valid_until", "The end must be after the start."),
        ({"buildings": None}, "estate", "Please choose the estate or the buildings."),
        ({"title_de": "  "}, "title_de", "Please give the notice a title."),
        ({"text_de": ""}, "text_de", "Please write what the residents should know."),
        (
            {"valid_from": ""},
            "valid_from",
            "Please give the day and time from which the notice holds.",
        ),
        (
            {"valid_from": "morgen"},
            "valid_from",
            "Please give a day and a time, e.g. 14.03.2026 08:00.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(
    client, cast, nord, change, field, message
):
    now = timezone.localtime()
    data = {
        "kind": "water",
        "buildings": [nord[0].pk],
        "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": (now + DAY).strftime("%Y-%m-%dT%H:%M"),
        "title_de": "Wasser",
        "text_de": "Kein Wasser.",
    }
    for key, value in change.items():
        if key == "valid_until":
            data[key] = (now + value * HOUR).strftime("%Y-%m-%dT%H:%M")
        elif value is None:
            del data[key]
        else:
            data[key] = value
    client.force_login(cast.hanna)
    response = client.post(STAFF + "neu/", data)
    assert response.status_code == 400
    assert de(message) in response.content.decode()
    assert response.context["form"].errors[field]
    assert not Notice.objects.exists()


def test_buildings_of_another_estate_are_refused(cast, nord):
    south = _home(cast.dave.member)
    with pytest.raises(NoticeError) as refused:
        notice_draft_save(
            actor=cast.hanna, content=_content(estate=nord[0].estate, buildings=[south])
        )
    assert refused.value.field == "buildings"


# E-mail ----------------------------------------------------------------------------------


def _opt_in(*users, language="de"):
    for user in users:
        user.notices_by_email = True
        user.language = language
        user.save(update_fields=["notices_by_email", "language"])


def test_it_emails_each_opted_in_resident_once_from_a_task(
    cast, nord, django_capture_on_commit_callbacks
):
    _opt_in(cast.alice, cast.dave)
    _opt_in(cast.bob, language="en")
    cast.bob.notices_by_email = False
    cast.bob.save(update_fields=["notices_by_email"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notice = _published(cast, buildings=[nord[0]])
    assert callbacks  # the e-mails were left to the task, after commit
    emails = OutboundEmail.objects.filter(
        to__in=["alice@example.org", "bob@example.org", "dave@example.org"]
    )
    assert [email.to for email in emails] == ["alice@example.org"]
    assert emails[0].subject == "Aushang für Ihr Haus: Wasser wird abgestellt"
    assert "http://testserver/aushaenge/" in emails[0].body
    # The task again (a retry, a second worker): nothing more.
    assert notice_deliver.call(notice.pk) == 0
    assert notices_email(notice_id=notice.pk) == 0
    assert NoticeDelivery.objects.filter(notice=notice).count() == 1
    assert OutboundEmail.objects.filter(to="alice@example.org").count() == 1


def test_the_email_is_in_the_members_language(cast, nord):
    _opt_in(cast.alice, language="en")
    notice = _published(cast, buildings=[nord[0]])
    assert notices_email(notice_id=notice.pk) == 1
    email = OutboundEmail.objects.get(to="alice@example.org")
    assert email.subject == "Notice for your building: Water shut-off"
    assert "On Tuesday from 8 to 12 there is no water." in email.body


def test_nothing_is_emailed_for_a_withdrawn_notice_nor_to_who_moved_out(cast, nord):
    yesterday = timezone.localdate() - DAY
    gone = _resident(
        cast, building=nord[0], number="30004", start=datetime.date(2010, 1, 1), end=yesterday
    )
    _opt_in(cast.alice, gone)
    withdrawn = _published(cast, buildings=[nord[0]])
    notice_withdraw(actor=cast.tom, notice=withdrawn)
    assert notices_email(notice_id=withdrawn.pk) == 0
    notice = _published(cast, estate=nord[0].estate)
    assert notices_email(notice_id=notice.pk) == 1
    assert not OutboundEmail.objects.filter(to=gone.email).exists()


def test_the_contact_page_sets_notices_by_email(client, cast):
    client.force_login(cast.alice)
    page = client.get("/mein-bereich/kontakt/").content.decode()
    assert de("Send me notices for my building by e-mail too") in page
    response = client.post(
        "/mein-bereich/kontakt/", {"phone": "", "language": "de", "notices_by_email": "on"}
    )
    assert response.status_code == 302
    cast.alice.refresh_from_db()
    assert cast.alice.notices_by_email
    client.post("/mein-bereich/kontakt/", {"phone": "", "language": "de"})
    cast.alice.refresh_from_db()
    assert not cast.alice.notices_by_email


def test_a_task_sends_in_batches_for_many_residents(cast, nord, monkeypatch):
    monkeypatch.setattr("notices.services.DELIVERY_BATCH", 2)
    users = [
        _resident(cast, building=nord[0], number=f"3100{i}", start=datetime.date(2020, 1, 1))
        for i in range(5)
    ]
    _opt_in(*users)
    notice = _published(cast, buildings=[nord[0]])
    assert notices_email(notice_id=notice.pk) == 5
    assert notices_email(notice_id=notice.pk) == 0


# Query counts ----------------------------------------------------------------------------


@pytest.fixture
def many(cast, nord):
    south = _home(cast.dave.member)
    for index in range(6):
        _published(cast, title=f"Aushang {index}", buildings=[nord[0], nord[1]])
        _published(cast, title=f"Anlage {index}", estate=nord[0].estate)
        notice_draft_save(
            actor=cast.hanna, content=_content(title=f"Entwurf {index}", buildings=[south])
        )
    return Notice.objects.filter(published_at__isnull=True).first()


def test_member_pages_use_few_queries_none_repeated(client, cast, many):
    client.force_login(cast.alice)
    for url in (HOME, PAGE):
        statements = measured(client, url)
        assert len(statements) <= MOST, (url, statements)
        assert not repeated(statements), (url, repeated(statements))
    # As before notices, and one for the documents card (tests/test_profile.py).
    assert len(measured(client, HOME)) <= 11


def test_staff_pages_use_few_queries_none_repeated(client, cast, many):
    client.force_login(cast.hanna)
    for url in (
        STAFF,
        STAFF + "neu/",
        f"{STAFF}{many.public_id}/",
        f"{STAFF}{many.public_id}/bearbeiten/",
    ):
        statements = measured(client, url)
        assert len(statements) <= MOST, (url, statements)
        assert not repeated(statements), (url, repeated(statements))


# The demo --------------------------------------------------------------------------------


def test_the_demo_shows_alice_a_heating_outage_and_an_invitation_once(cast):
    first = notices_demo_ensure(cast)
    again = notices_demo_ensure(cast)
    assert {key: n.pk for key, n in first.items()} == {key: n.pk for key, n in again.items()}
    assert Notice.objects.count() == 2
    current = notices_for_member(cast.alice.member).current
    assert {n.kind for n in current} == {NoticeKind.HEATING, NoticeKind.ASSEMBLY}
    assert list(first["heating"].buildings.all()) == [_home(cast.alice.member)]
    assert notices_for_member(cast.dave.member).current == []


def test_publish_and_withdraw_pages_use_few_queries_none_repeated(client, cast, many):
    """The confirmation steps, as a team lead (who may do both)."""
    client.force_login(cast.tom)
    otp_verify(client, cast.tom)
    published = Notice.objects.filter(published_at__isnull=False).first()
    for url in (
        f"{STAFF}{many.public_id}/veroeffentlichen/",
        f"{STAFF}{published.public_id}/zurueckziehen/",
    ):
        statements = measured(client, url)
        assert len(statements) <= MOST, (url, statements)
        assert not repeated(statements), (url, repeated(statements))
