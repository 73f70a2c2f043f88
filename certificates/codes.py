"""Verification codes: what a certificate carries so that whoever it is
shown to (an office, a landlord) can check it at /pruefen/.

Random, 28 symbols of Crockford's base 32 (140 bits, more than the 128 a
guess must beat), printed in groups of four. Only a SHA-256 of the code is
stored, for the lookup: the administration and a copy of the database list
no codes (the PDF as issued carries it, as the member's paper does). No key
is needed: nobody can compute a code from its hash, and with 2^140 codes
nobody finds one by trying, at any rate (the verify page is rate limited as
well, against someone trying to read many members' names)."""

import hashlib
import secrets

# Crockford's base 32: no I, L, O or U, so nothing reads as another symbol.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 28
GROUP = 4
# What people type for what they see on paper.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def code_new() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_grouped(code: str) -> str:
    """XXXX-XXXX-…: as printed, and in the verify address."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def code_normal(text: str) -> str | None:
    """The code as stored from what someone typed or scanned: any case,
    spaces and dashes anywhere, O for 0 and I or L for 1; None for what
    cannot be a code at all."""
    if len(text) > 80:
        return None
    code = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != LENGTH or any(symbol not in ALPHABET for symbol in code):
        return None
    return code


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()
