"""Letters as PDF: a Django template rendered to HTML in the reader's
language, laid out by WeasyPrint (Debian's Pango and fonts).

The base template (templates/pdf/letter.html) is the cooperative's letter in
DIN 5008 form B; a document extends it and fills its blocks. This layer
knows no cooperative: callers hand in the letterhead's facts
(cooperative.letterhead) with the rest of the context.

WeasyPrint would fetch whatever a page names (images, stylesheets, fonts) by
URL, from the network too. Here it fetches nothing but `data:` URLs, files
in the project's static folders and the system's font files: a letter carries a member's data, and
a stray address in a template or in text must neither leak it to a server
nor make a letter depend on one. A refused fetch stops the rendering (a
missing picture would otherwise go unnoticed until a member complains)."""

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

# Where Debian's font packages put their files (fonts-dejavu-core): the
# letter names its font by family (`local()`), fontconfig finds the file and
# WeasyPrint reads it through the fetcher below.
FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".woff", ".woff2"}


class FetchRefused(ValueError):
    """A letter named something outside the static files."""


def _static_roots() -> list[Path]:
    roots = [Path(folder) for folder in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots]


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint's fetcher limited to `data:` URLs and static files."""

    def __init__(self):
        # Failing loudly: the rendering stops at the first refused fetch.
        super().__init__(allowed_protocols={"data", "file"}, fail_on_errors=True, timeout=1)

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file:"):
            path = Path(url.removeprefix("file://").split("?", 1)[0].split("#", 1)[0]).resolve()
            if any(path.is_relative_to(root) for root in _static_roots()) or (
                path.suffix.lower() in FONT_SUFFIXES
                and any(path.is_relative_to(root) for root in FONT_ROOTS)
            ):
                return super().fetch(path.as_uri(), headers)
        raise FetchRefused(f"a letter fetches no {url[:80]!r}")


def render_pdf(*, template_name: str, context: dict, language: str) -> bytes:
    """The template as a PDF, every text in `language` (the reader's, not
    the request's: a member reads their certificate in their own language
    whoever produced it). Relative addresses in the template point into the
    static files."""
    with translation.override(language):
        html = render_to_string(template_name, {**context, "language": language})
    base = _static_roots()[0].as_uri() + "/"
    # Tagged (headings, paragraphs, tables, the language): a screen reader
    # reads the letter in order, as it reads the portal's pages.
    document = HTML(string=html, base_url=base, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf(pdf_tags=True)
