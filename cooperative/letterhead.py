"""The cooperative as its letters name it: sender, return address and the
footer § 25a GenG requires (core.pdf's base template reads these keys).

Plain data, so a document can keep the letterhead it was printed with
(certificates.Certificate.facts): a later change of board or bank does not
rewrite what an old letter said."""

import base64
import logging
import mimetypes

from cooperative.models import Cooperative

logger = logging.getLogger(__name__)

# Pictures WeasyPrint draws; anything else in the logo field is left out.
LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "image/webp"}
LOGO_MAX_BYTES = 2 * 1024 * 1024


def letterhead_facts(cooperative: Cooperative) -> dict:
    return {
        "name": cooperative.name,
        "street": cooperative.street,
        "postcode": cooperative.postcode,
        "city": cooperative.city,
        "phone": cooperative.phone,
        "email": cooperative.email,
        "register_court": cooperative.register_court,
        "register_number": cooperative.register_number,
        "board_members": cooperative.board_members,
        "supervisory_board_chair": cooperative.supervisory_board_chair,
        "bank_details": cooperative.bank_details,
        "colour": cooperative.brand_colour,
    }


def logo_data_uri(cooperative: Cooperative) -> str:
    """The logo inside the letter itself (the PDF renderer fetches no
    files), or "" without one. A logo that cannot be read leaves the letter
    without it rather than failing the letter."""
    if not cooperative.logo:
        return ""
    content_type = mimetypes.guess_type(cooperative.logo.name)[0] or ""
    if content_type not in LOGO_TYPES:
        return ""
    try:
        with cooperative.logo.open("rb") as handle:
            data = handle.read(LOGO_MAX_BYTES + 1)
    except OSError:
        logger.exception("the cooperative's logo could not be read")
        return ""
    if len(data) > LOGO_MAX_BYTES:
        return ""
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
