from django.utils.html import escape
from django.utils.translation import gettext, override


def de(text: str) -> str:
    """The German (default language) text of a source string, HTML-escaped as a
    page shows it: tests assert what a member really reads."""
    with override("de"):
        return escape(gettext(text))
