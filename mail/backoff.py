"""When a failed e-mail is tried again: a pure decision, no database."""

import datetime

FIRST_RETRY = datetime.timedelta(minutes=1)
LONGEST_WAIT = datetime.timedelta(hours=1)


def retry_delay(
    *,
    attempts: int,
    first: datetime.timedelta = FIRST_RETRY,
    longest: datetime.timedelta = LONGEST_WAIT,
) -> datetime.timedelta:
    """How long an e-mail waits after its `attempts`-th attempt failed:
    1, 2, 4, 8 … minutes, never more than an hour. A mail server that is
    down for maintenance or greylists us gets room to recover instead of a
    knock every minute, and a member still gets the message within the hour
    once it is back. With the default ten attempts the portal keeps trying
    for about four hours; then the e-mail is "given up" and listed for staff
    (mail.selectors.emails_failing)."""
    if attempts < 1:
        return datetime.timedelta(0)
    # Capped before multiplying, so a huge count cannot overflow timedelta.
    doublings = min(attempts - 1, 32)
    return min(first * 2**doublings, longest)
