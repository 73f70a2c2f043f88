"""The membership's history (issue 15, point 4): the ERP's bookings on the
members' shares imported (all or nothing, re-runnable), the balance and
dividends computed from them, "Meine Mitgliedschaft" showing a member their
own and nobody else's, and the forms to subscribe or cancel shares with the
statutory notice (GenG § 65, § 67b) computed for the day they are sent."""

import datetime
import re
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext
from hypothesis import given
from hypothesis import strategies as st

from cooperative.cache import cooperative_cache_clear
from cooperative.models import Cooperative
from core.dates import date_long
from members.models import Member, ShareMovement
from members.selectors import share_facts, share_history
from members.shares import (
    business_year_end,
    cancellation_dates,
    cancellation_deadline,
    cancellation_effective_on,
    month_end,
)
from tests.helpers import MOST, de, measured, repeated
from tickets.models import RequestType, Ticket, TicketDraft

DATA = Path(__file__).parent / "data" / "import"
MEMBERS = DATA / "members.csv"
LEDGER = DATA / "share_ledger.csv"
PAGE = "/mein-bereich/mitgliedschaft/"
CANCEL = "/anliegen/neu/anteile-kuendigen/"
SUBSCRIBE = "/anliegen/neu/anteile-zeichnen/"


def run(**files) -> str:
    stdout, stderr = StringIO(), StringIO()
    options = {kind: str(path) for kind, path in files.items()}
    with translation.override("en"):
        call_command("import_master_data", stdout=stdout, stderr=stderr, **options)
    assert stderr.getvalue() == ""
    return stdout.getvalue()


def run_failing(**files) -> str:
    stdout, stderr = StringIO(), StringIO()
    options = {kind: str(path) for kind, path in files.items()}
    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command("import_master_data", stdout=stdout, stderr=stderr, **options)
    return stderr.getvalue() + str(failure.value)


def counts(output: str, entity: str) -> tuple[int, ...]:
    match = re.search(rf"^{entity}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", output, re.M)
    assert match, output
    return tuple(int(n) for n in match.groups())


def ledger(tmp_path: Path, *rows: str, name="share_ledger.csv") -> Path:
    header = "Beleg-Nr;Mitglieds-Nr;Buchungsdatum;Vorgang;Anteile;Betrag;Geschäftsjahr;Buchungstext"
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def movements() -> list[tuple]:
    return sorted(
        ShareMovement.objects.values_list(
            "reference",
            "member__member_number",
            "booked_on",
            "kind",
            "shares",
            "amount",
            "business_year",
            "text",
            "updated_at",
        )
    )


# --- The import ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_the_share_ledger_with_the_members_of_the_same_run():
    output = run(members=MEMBERS, share_ledger=LEDGER)

    assert counts(output, "share movements") == (10, 0, 0, 0)
    jana = Member.objects.get(member_number="30001")
    first = ShareMovement.objects.get(reference="GA-2012-0001")
    assert (first.member, first.booked_on, first.kind, first.shares, first.amount) == (
        jana,
        datetime.date(2012, 4, 1),
        ShareMovement.Kind.SUBSCRIPTION,
        2,
        Decimal("0.00"),
    )
    assert (first.business_year, first.text) == (2012, "Beitritt, 2 Pflichtanteile")
    dividend = ShareMovement.objects.get(reference="GA-2017-0001")
    assert (dividend.kind, dividend.amount, dividend.business_year) == (
        ShareMovement.Kind.DIVIDEND_CREDITED,
        Decimal("38.40"),
        2016,
    )


@pytest.mark.django_db
def test_a_second_import_of_the_same_export_changes_nothing():
    run(members=MEMBERS, share_ledger=LEDGER)
    before = movements()
    output = run(share_ledger=LEDGER)
    assert counts(output, "share movements") == (0, 0, 10, 0)
    assert movements() == before  # not even updated_at moved


@pytest.mark.django_db
def test_a_corrected_booking_is_updated_by_its_reference_not_duplicated(tmp_path):
    run(members=MEMBERS, share_ledger=LEDGER)
    text = LEDGER.read_text(encoding="utf-8").replace(
        "GA-2021-0001;30001;30.06.2021;Dividendenauszahlung;;32,00",
        "GA-2021-0001;30001;30.06.2021;Dividendenauszahlung;;32,50",
    )
    corrected = tmp_path / "share_ledger.csv"
    corrected.write_text(text, encoding="utf-8")
    output = run(share_ledger=corrected)
    assert counts(output, "share movements") == (0, 1, 9, 0)
    assert ShareMovement.objects.count() == 10
    assert ShareMovement.objects.get(reference="GA-2021-0001").amount == Decimal("32.50")


@pytest.mark.django_db
def test_a_partial_export_deletes_no_earlier_booking(tmp_path):
    run(members=MEMBERS, share_ledger=LEDGER)
    output = run(
        share_ledger=ledger(tmp_path, "GA-2026-0001;30002;01.03.2026;Einzahlung;;10,00;2026;")
    )
    assert counts(output, "share movements") == (1, 0, 0, 0)
    assert ShareMovement.objects.count() == 11


@pytest.mark.django_db
def test_it_reports_every_bad_booking_and_imports_nothing(tmp_path, cast):
    run(members=MEMBERS, share_ledger=LEDGER)
    before = movements()
    bad = ledger(
        tmp_path,
        "GA-1;30001;01.01.2024;Einzahlung;;50,00;2024;fine",  # line 2: fine
        "GA-2;30001;01.01.2024;Schenkung;;50,00;2024;",  # 3: unknown Vorgang
        "GA-3;30001;01.01.2024;Einzahlung;2;50,00;2024;",  # 4: shares on a payment
        "GA-4;30001;01.01.2024;Einzahlung;;;2024;",  # 5: payment without amount
        "GA-5;30001;01.01.2024;Zeichnung;;;2024;",  # 6: subscription without shares
        "GA-6;30001;01.01.2024;Zeichnung;1;160,00;2024;",  # 7: money on a subscription
        "GA-1;30001;02.01.2024;Einzahlung;;5,00;2024;",  # 8: reference twice
        "GA-7;99999;01.01.2024;Einzahlung;;5,00;2024;",  # 9: unknown member
        "GA-8;30001;31.02.2024;Einzahlung;;5,00;2024;",  # 10: no such date
        "GA-9;30001;01.01.2024;Auszahlung;;-5,00;2024;",  # 11: a sign
        "GA-10;30001;01.01.2024;Einzahlung;;5.00;2024;",  # 12: an English decimal point
        "GA-11;30001;01.01.2024;Einzahlung;;5,00;24;",  # 13: a two-digit year
        ";30001;01.01.2024;Einzahlung;;5,00;2024;",  # 14: no reference
    )
    report = run_failing(share_ledger=bad)
    lines = report.splitlines()
    expected = {
        3: "Vorgang 'Schenkung' is not allowed",
        4: "Anteile must be empty or 0 for Vorgang 'Einzahlung'",
        5: "Betrag must be greater than 0 for Vorgang 'Einzahlung'",
        6: "Anteile must be greater than 0 for Vorgang 'Zeichnung'",
        7: "Betrag must be empty or 0 for Vorgang 'Zeichnung'",
        8: "Beleg-Nr 'GA-1' appears more than once (first in line 2)",
        9: "Mitglieds-Nr '99999' exists neither in the database nor in the import",
        10: "Buchungsdatum '31.02.2024' is not a valid date",
        11: "Betrag '-5,00' must not be negative",
        12: "Betrag '5.00' is not a number in German notation",
        13: "Geschäftsjahr '24' is outside 1900 to 2100",
        14: "Beleg-Nr is empty but required",
    }
    for line, reason in expected.items():
        assert any(f"share_ledger.csv, line {line}: {reason}" in text for text in lines), (
            line,
            report,
        )
    assert "line 2:" not in report
    assert "12 problems found; nothing was imported." in report
    assert movements() == before


@pytest.mark.django_db
def test_a_bad_members_file_keeps_a_good_ledger_out_too(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text(
        MEMBERS.read_text(encoding="utf-8").replace("01.04.2012", "31.04.2012"), encoding="utf-8"
    )
    report = run_failing(members=members, share_ledger=LEDGER)
    assert "Eintrittsdatum '31.04.2012' is not a valid date" in report
    assert not ShareMovement.objects.exists() and not Member.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_counts_the_bookings_and_stores_none():
    stdout = StringIO()
    with translation.override("en"):
        call_command(
            "import_master_data",
            members=str(MEMBERS),
            share_ledger=str(LEDGER),
            dry_run=True,
            stdout=stdout,
        )
    assert counts(stdout.getvalue(), "share movements") == (10, 0, 0, 0)
    assert not ShareMovement.objects.exists()


# --- Balances ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_balance_follows_payments_a_credited_dividend_and_a_cancellation():
    run(members=MEMBERS, share_ledger=LEDGER)
    jana = Member.objects.get(member_number="30001")

    facts = share_facts(jana)
    assert (facts.required, facts.voluntary, facts.share_value) == (2, 3, Decimal("160.00"))
    # 320 + 601,60 + 38,40 (dividend credited) − 160 (the cancelled share paid out)
    assert facts.balance == Decimal("800.00") == facts.subscribed
    assert facts.outstanding == 0

    history = share_history(jana, end_month=12, today=datetime.date(2026, 11, 29))
    at = {row.day: (row.shares, row.balance) for row in history.year_ends}
    assert at[datetime.date(2012, 12, 31)] == (2, Decimal("320.00"))
    assert at[datetime.date(2016, 12, 31)] == (6, Decimal("921.60"))
    assert at[datetime.date(2017, 12, 31)] == (6, Decimal("960.00"))
    # The cancellation takes effect at the end of 2019; the money leaves in 2020.
    assert at[datetime.date(2019, 12, 31)] == (5, Decimal("960.00"))
    assert at[datetime.date(2020, 12, 31)] == (5, Decimal("800.00"))
    assert history.year_ends[-1].is_today
    assert len(history.year_ends) == 2025 - 2012 + 2
    # A dividend paid out is a dividend, but no part of the balance.
    assert [(d.business_year, d.credited, d.paid) for d in history.dividends] == [
        (2016, Decimal("38.40"), Decimal("0")),
        (2020, Decimal("0"), Decimal("32.00")),
    ]
    assert history.movements[-1].balance_after == Decimal("800.00")


@pytest.mark.django_db
def test_an_export_opening_with_a_carried_forward_balance_and_transfers(tmp_path):
    run(
        members=MEMBERS,
        share_ledger=ledger(
            tmp_path,
            "V-1;30002;01.01.2020;Vortrag;1;160,00;2020;Saldovortrag",
            "V-2;30002;01.03.2021;übertragung   ZUGANG;2;300,00;2021;von Jana",
            "V-3;30002;01.04.2022;Übertragung Abgang;1;150,00;2022;an Sören",
            "V-4;30002;01.05.2022;Dividendenauszahlung;;6,40;2021;",
        ),
    )
    history = share_history(
        Member.objects.get(member_number="30002"), end_month=12, today=datetime.date(2026, 11, 29)
    )
    assert [(row.shares_after, row.balance_after) for row in history.movements] == [
        (1, Decimal("160.00")),
        (3, Decimal("460.00")),
        (2, Decimal("310.00")),
        (2, Decimal("310.00")),
    ]
    assert share_facts(Member.objects.get(member_number="30002")).balance == Decimal("310.00")
    assert [(d.business_year, d.paid) for d in history.dividends] == [(2021, Decimal("6.40"))]


@pytest.mark.django_db
def test_a_member_without_bookings_has_no_balance_rather_than_zero():
    run(members=MEMBERS)
    facts = share_facts(Member.objects.get(member_number="30003"))
    assert (facts.required, facts.voluntary, facts.balance, facts.outstanding) == (2, 0, None, 0)


@pytest.mark.django_db
def test_the_balance_is_read_in_one_query(django_assert_num_queries, cast):
    with django_assert_num_queries(1):
        facts = share_facts(cast.alice.member)
    assert (facts.shares, facts.balance) == (5, Decimal("800.00"))


@pytest.mark.django_db
def test_a_business_year_ending_in_june_moves_the_year_ends(cast):
    history = share_history(cast.alice.member, end_month=6, today=datetime.date(2026, 11, 29))
    days = [row.day for row in history.year_ends]
    assert days[0] == datetime.date(2012, 6, 30)  # her first booking: 1 April 2012
    assert days[-2] == datetime.date(2026, 6, 30)
    assert all(day.month == 6 and day.day == 30 for day in days[:-1])


# --- Meine Mitgliedschaft ---------------------------------------------------------


@pytest.mark.django_db
def test_alice_sees_her_shares_balance_dividends_and_bookings(client, cast):
    client.force_login(cast.alice)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert de("My membership") in html
    assert "20001" in html and "1. April 2012" in html
    assert "2 × 160,00 € = 320,00 €" in html and "3 × 160,00 € = 480,00 €" in html
    assert "800,00 €" in html
    assert de("Paid-in balance (Geschäftsguthaben)") in html
    assert de("Still to be paid in") not in html  # paid up
    # The chart, and the same figures as a table.
    assert '<svg viewBox="0 0 720 220" role="img"' in html
    balance = html.split('id="balance-title"', 1)[1].split("</table>", 1)[0]
    assert balance.count('<th scope="row">31.12.') == 2025 - 2012 + 1
    assert "<td>5</td><td>800,00 €</td>" in balance.rsplit("<tr>", 1)[1]  # today
    assert "Auszahlung gekündigter Anteil" in html and "Resteinzahlung" in html
    dividends = html.split('id="dividends-title"', 1)[1].split("</table>", 1)[0]
    assert [int(y) for y in re.findall(r'<th scope="row">(\d{4})</th>', dividends)] == list(
        range(2018, 2026)
    )
    # The forms about shares, from the page.
    assert 'href="/anliegen/neu/anteile-zeichnen/"' in html
    assert 'href="/anliegen/neu/anteile-kuendigen/"' in html


@pytest.mark.django_db
def test_my_area_links_to_the_membership_page(client, cast):
    client.force_login(cast.alice)
    assert f'href="{PAGE}"' in client.get("/mein-bereich/").content.decode()


@pytest.mark.django_db
def test_the_household_partner_sees_his_own_membership_not_alices(client, cast):
    client.force_login(cast.bob)
    html = client.get(PAGE).content.decode()
    assert "20002" in html and "20001" not in html
    assert "Resteinzahlung" not in html and "800,00" not in html
    assert (
        de(
            "The bookings on your shares have not been transferred to the portal yet. The office "
            "will gladly tell you your balance."
        )
        in html
    )
    # No voluntary shares: nothing to cancel.
    assert 'href="/anliegen/neu/anteile-kuendigen/"' not in html


@pytest.mark.django_db
def test_another_member_sees_only_his_own_bookings(client, cast):
    client.force_login(cast.dave)
    html = client.get(PAGE).content.decode()
    assert "20003" in html and "320,00 €" in html
    assert "20001" not in html and "Resteinzahlung" not in html
    # Nobody's member number in the address changes whose page it is.
    other = client.get(PAGE + "?mitglied=20001").content.decode()
    assert "Resteinzahlung" not in other and "<dd>20003</dd>" in other


@pytest.mark.django_db
def test_staff_have_no_membership_page_and_strangers_are_sent_to_log_in(client, cast):
    assert client.get(PAGE)["Location"].startswith("/anmelden/")
    client.force_login(cast.hanna)
    assert client.get(PAGE).status_code == 404


@pytest.mark.django_db
def test_the_membership_page_refuses_a_post(client, cast):
    client.force_login(cast.alice)
    assert client.post(PAGE).status_code == 405


@pytest.mark.django_db
def test_the_membership_page_asks_few_queries_none_twice(client, cast):
    client.force_login(cast.alice)
    statements = measured(client, PAGE)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements)


# --- The notice of a cancellation (GenG § 65, § 67b) ------------------------------


@pytest.mark.parametrize(
    ("received", "notice", "end_month", "effective"),
    [
        # Three months to 31 December: in time until 30 September.
        ("2026-09-30", 3, 12, "2026-12-31"),
        ("2026-10-01", 3, 12, "2027-12-31"),
        ("2026-11-29", 3, 12, "2027-12-31"),
        ("2026-12-31", 3, 12, "2027-12-31"),
        ("2027-01-01", 3, 12, "2027-12-31"),
        ("2026-01-01", 3, 12, "2026-12-31"),
        # A business year ending 30 June: in time until 31 March.
        ("2027-03-31", 3, 6, "2027-06-30"),
        ("2027-04-01", 3, 6, "2028-06-30"),
        ("2027-07-01", 3, 6, "2028-06-30"),
        # Ending in February: the leap day is the year end.
        ("2027-11-30", 3, 2, "2028-02-29"),
        ("2027-12-01", 3, 2, "2029-02-28"),
        # Six months, two years and the longest notice, five years.
        ("2026-06-30", 6, 12, "2026-12-31"),
        ("2026-07-01", 6, 12, "2027-12-31"),
        ("2026-12-31", 24, 12, "2028-12-31"),
        ("2027-01-01", 24, 12, "2029-12-31"),
        ("2026-11-29", 60, 12, "2031-12-31"),
        ("2026-12-31", 60, 12, "2031-12-31"),
        ("2027-01-01", 60, 12, "2032-12-31"),
    ],
)
def test_the_earliest_effective_date(received, notice, end_month, effective):
    day = datetime.date.fromisoformat(received)
    assert cancellation_effective_on(
        day, notice_months=notice, end_month=end_month
    ) == datetime.date.fromisoformat(effective)


def test_the_deadline_is_counted_back_from_the_year_end():
    assert cancellation_deadline(datetime.date(2026, 12, 31), notice_months=3) == datetime.date(
        2026, 9, 30
    )
    assert cancellation_deadline(datetime.date(2027, 6, 30), notice_months=3) == datetime.date(
        2027, 3, 31
    )
    assert cancellation_deadline(datetime.date(2028, 2, 29), notice_months=3) == datetime.date(
        2027, 11, 30
    )


@given(
    received=st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2090, 12, 31)),
    notice=st.integers(min_value=3, max_value=60),
    end_month=st.integers(min_value=1, max_value=12),
)
def test_the_effective_date_is_the_first_year_end_the_notice_reaches(received, notice, end_month):
    effective = cancellation_effective_on(received, notice_months=notice, end_month=end_month)
    # The end of a business year …
    assert effective == month_end(effective.year, end_month)
    assert business_year_end(effective, end_month=end_month) == effective
    # … that the cancellation reaches in time: the whole notice lies between …
    deadline = cancellation_deadline(effective, notice_months=notice)
    assert received <= deadline
    assert deadline.month != (deadline + datetime.timedelta(days=1)).month  # a month's last day
    # … and the one before it would have been too soon.
    earlier = month_end(effective.year - 1, end_month)
    assert earlier < received or cancellation_deadline(earlier, notice_months=notice) < received
    # Never more than the notice plus one business year away.
    assert (effective - received).days <= notice * 31 + 366
    dates = cancellation_dates(received, notice_months=notice, end_month=end_month, count=3)
    assert dates[0] == effective and [d.year for d in dates] == [
        effective.year,
        effective.year + 1,
        effective.year + 2,
    ]


@given(
    received=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2080, 12, 31)),
    notice=st.integers(min_value=3, max_value=60),
    end_month=st.integers(min_value=1, max_value=12),
)
def test_a_day_later_never_takes_effect_sooner(received, notice, end_month):
    today = cancellation_effective_on(received, notice_months=notice, end_month=end_month)
    tomorrow = cancellation_effective_on(
        received + datetime.timedelta(days=1), notice_months=notice, end_month=end_month
    )
    assert tomorrow in (today, month_end(today.year + 1, end_month))


# --- The forms to cancel and to subscribe shares ----------------------------------


def _statutes(*, notice=3, end_month=12) -> None:
    cooperative = Cooperative.objects.get()
    cooperative.share_notice_months = notice
    cooperative.business_year_end_month = end_month
    cooperative.save()
    cooperative_cache_clear()


def _earliest(notice=3, end_month=12) -> datetime.date:
    return cancellation_effective_on(
        timezone.localdate(), notice_months=notice, end_month=end_month
    )


@pytest.mark.django_db
def test_the_cancellation_form_shows_the_notice_and_the_earliest_date(client, cast):
    client.force_login(cast.alice)
    html = client.get(CANCEL).content.decode()
    earliest = _earliest()
    assert "§ 67b GenG" in html  # the statutory notice in the form's text
    with translation.override("de"):
        notice = ngettext(
            "Notice period: %(months)d month to the end of a business year. Sent today, the "
            "cancellation takes effect on %(date)s at the earliest.",
            "Notice period: %(months)d months to the end of a business year. Sent today, the "
            "cancellation takes effect on %(date)s at the earliest.",
            3,
        ) % {"months": 3, "date": date_long(earliest)}
        held = ngettext(
            "You hold %(voluntary)d voluntary share beyond your %(required)d compulsory ones.",
            "You hold %(voluntary)d voluntary shares beyond your %(required)d compulsory ones.",
            3,
        ) % {"voluntary": 3, "required": 2}
    assert escape(notice) in html and escape(held) in html
    # The earliest date is chosen already; the next four are offered too.
    assert f'value="{earliest.isoformat()}" id="id_effective_0" checked' in html
    assert html.count('name="effective"') == 5


@pytest.mark.django_db
def test_the_statutes_decide_the_dates_the_form_offers(client, cast):
    _statutes(notice=6, end_month=6)
    client.force_login(cast.alice)
    html = client.get(CANCEL).content.decode()
    earliest = _earliest(notice=6, end_month=6)
    assert earliest.month == 6 and earliest.day == 30
    assert f'value="{earliest.isoformat()}"' in html
    assert f'value="{_earliest().isoformat()}"' not in html


@pytest.mark.django_db
def test_more_shares_than_the_voluntary_ones_are_refused_and_nothing_is_lost(client, cast):
    client.force_login(cast.alice)
    earliest = _earliest().isoformat()
    answers = {"count": "4", "effective": earliest, "remarks": "Bitte auf mein Konto."}
    page = client.post(CANCEL, answers)
    assert page.status_code == 200
    html = page.content.decode()
    with translation.override("de"):
        message = ngettext(
            "You hold %(count)d voluntary share, so you can cancel at most %(count)d.",
            "You hold %(count)d voluntary shares, so you can cancel at most %(count)d.",
            3,
        ) % {"count": 3}
    assert escape(message) in html
    assert 'value="4"' in html and "Bitte auf mein Konto." in html
    assert not Ticket.objects.exists()
    # What was typed is kept as the draft, for the next visit too.
    assert TicketDraft.objects.get(user=cast.alice).answers["remarks"] == "Bitte auf mein Konto."
    assert client.post(CANCEL + "pruefen/")["Location"] == CANCEL + "?pruefen=1"


@pytest.mark.django_db
def test_a_member_without_voluntary_shares_is_told_why_he_cannot_cancel(client, cast):
    client.force_login(cast.dave)
    page = client.post(CANCEL, {"count": "1", "effective": _earliest().isoformat()})
    assert (
        de(
            "You hold no voluntary shares. The compulsory shares end only with the membership itself."
        )
        in page.content.decode()
    )
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_a_cancellation_is_filed_to_the_chosen_year_end_and_routed(client, cast):
    client.force_login(cast.alice)
    later = cancellation_dates(timezone.localdate(), notice_months=3, end_month=12)[1]
    response = client.post(CANCEL, {"count": "2", "effective": later.isoformat()})
    assert response["Location"] == CANCEL + "pruefen/"
    review = client.get(CANCEL + "pruefen/").content.decode()
    with translation.override("de"):
        assert date_long(later) in review
    client.post(CANCEL + "pruefen/")
    ticket = Ticket.objects.get()
    assert ticket.answers["count"] == 2 and ticket.answers["effective"] == later.isoformat()
    assert ticket.member == cast.alice.member and not ticket.shared_with_household
    assert ticket.team.name == "Mitgliederwesen"
    assert any(later.strftime("%Y") in text for _label, text in ticket.answer_rows())


@pytest.mark.django_db
def test_a_draft_kept_past_the_deadline_is_sent_back_with_the_new_earliest_date(client, cast):
    client.force_login(cast.alice)
    passed = month_end(timezone.localdate().year - 1, 12)  # no longer possible
    TicketDraft.objects.create(
        user=cast.alice,
        request_type=RequestType.objects.get(slug="anteile-kuendigen"),
        answers={"count": 1, "effective": passed.isoformat()},
    )
    response = client.post(CANCEL + "pruefen/")
    assert response["Location"] == CANCEL + "?pruefen=1"
    html = client.get(response["Location"]).content.decode()
    with translation.override("de"):
        message = gettext(
            "This date is no longer possible: sent today, the cancellation takes "
            "effect on %(date)s at the earliest."
        ) % {"date": date_long(_earliest())}
    assert escape(message) in html
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_the_subscription_names_the_price_and_the_amount_to_pay(client, cast):
    client.force_login(cast.alice)
    assert "160,00 €" in client.get(SUBSCRIBE).content.decode()
    response = client.post(SUBSCRIBE, {"count": "3", "payment": "transfer"})
    assert response.status_code == 302
    review = client.get(SUBSCRIBE + "pruefen/").content.decode()
    assert "3 × 160,00 € = 480,00 €" in review
    client.post(SUBSCRIBE + "pruefen/")
    assert Ticket.objects.get().answers["count"] == 3


@pytest.mark.django_db
@pytest.mark.parametrize("count", ["0", "21", "zwei", "-1"])
def test_a_subscription_outside_the_limits_is_refused(client, cast, count):
    client.force_login(cast.alice)
    page = client.post(SUBSCRIBE, {"count": count, "payment": "transfer"})
    assert page.status_code == 200 and 'class="error-summary"' in page.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", [CANCEL, SUBSCRIBE])
def test_the_share_forms_ask_few_queries_none_twice(client, cast, url):
    client.force_login(cast.alice)
    statements = measured(client, url)
    assert len(statements) <= MOST, "\n".join(statements)
    assert not repeated(statements)
