"""Comparing German words as people type them."""

import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, umlauts spelt out, accents dropped: "Schlüssel",
    "schluessel" and "SCHLÜSSEL" all become "schluessel" (a text typed
    without the dots, "Schlussel", does not: a keyword list may hold both).

    Members type on keyboards without umlauts as often as with, so routing
    keywords and the classifier's keyword fallback compare folded text. NFC
    first: a "ü" sent as "u" plus a combining mark is still spelt out "ue"."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )
