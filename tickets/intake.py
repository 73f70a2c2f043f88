"""The accounts that log requests which came without a member's account:
mail from an address no member has (mailroom), a report on the public
accessibility form (tickets.feedback). A request names who created it
(Ticket.created_by); these accounts are that "who" — inactive, without a
usable password, never able to log in."""

from django.db import transaction

from accounts.models import User
from core.request_cache import request_cached


def intake_account(*, email: str, name: str) -> User:
    """The intake account with this (invalid, never mailed) address, made
    on first use. Read once per request or batch of the mail intake."""
    # Kept for the batch only once it exists: one made inside a savepoint
    # that is rolled back would be gone for the next message.
    known = request_cached(("intake_account", email), User.objects.filter(email=email).first)
    return known or _intake_account_make(email=email, name=name)


def _intake_account_make(*, email: str, name: str) -> User:
    with transaction.atomic():
        account, created = User.objects.get_or_create(
            email=email, defaults={"first_name": name, "is_active": False, "is_staff": False}
        )
        if created:
            account.set_unusable_password()
            account.save(update_fields=["password"])
    return account
