"""IBANs as people read them.

Stored compact ("DE02120300000000202051"), shown in groups of four
("DE02 1203 0000 0000 2020 51"), and masked ("DE02 •••• •••• •••• •••• 51")
for everyone but the member who entered it: a household partner, staff
without a stated reason, e-mails. Country, check digits and the last two
characters stay: enough to recognise which account is meant, not enough
to use it. Pure functions: the ticket (Ticket.answer_rows) decides which
one a reader gets."""

import re

MASK = "•"
# What people type between the characters: spaces (also non-breaking ones
# from a copied statement) and dashes.
SEPARATORS = re.compile(r"[\s\-‐‑‒–—]+")


def iban_strip(value: str) -> str:
    """Without the spaces and dashes, otherwise as typed."""
    return SEPARATORS.sub("", value or "")


def iban_compact(value: str) -> str:
    """Without spaces and dashes, in capitals: how an IBAN is stored."""
    return iban_strip(value).upper()


def _grouped(characters: str) -> str:
    return " ".join(characters[i : i + 4] for i in range(0, len(characters), 4))


def iban_grouped(value: str) -> str:
    """In groups of four, as printed on a bank card."""
    return _grouped(iban_compact(value))


def iban_masked(value: str) -> str:
    """Country and check digits, then only the last two characters."""
    compact = iban_compact(value)
    if len(compact) <= 6:
        return MASK * len(compact)
    return _grouped(compact[:4] + MASK * (len(compact) - 6) + compact[-2:])
