"""The pause before a failed e-mail is tried again (mail.backoff): a pure
decision, tested without a database (issue 12, "Outbound")."""

import datetime

from mail.backoff import retry_delay

MINUTE = datetime.timedelta(minutes=1)


def test_it_waits_one_two_four_minutes_and_at_most_an_hour():
    waits = [retry_delay(attempts=n) for n in range(1, 11)]
    assert waits == [MINUTE * m for m in (1, 2, 4, 8, 16, 32, 60, 60, 60, 60)]


def test_it_does_not_wait_before_the_first_attempt_and_survives_huge_counts():
    assert retry_delay(attempts=0) == datetime.timedelta(0)
    assert retry_delay(attempts=60_000) == datetime.timedelta(hours=1)


def test_it_takes_other_steps():
    second = datetime.timedelta(seconds=1)
    assert retry_delay(attempts=3, first=second, longest=3 * second) == 3 * second
    assert retry_delay(attempts=2, first=second, longest=3 * second) == 2 * second
