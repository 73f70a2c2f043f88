"""Reading certificates: the member's own (404 for anyone else's), one by
its verification code, and which certificates Mein Bereich offers."""

from django.core.cache import cache
from django.http import Http404

from accounts.models import User
from certificates.codes import code_hash, code_normal
from certificates.models import Certificate
from members.models import Member
from members.selectors import residences
from tickets.models import CertificateKind, RequestType

OFFERS_CACHE_KEY = "genoportal:certificate_offers"
OFFERS_CACHE_SECONDS = 60


def get_certificate_for_member(user: User, certificate_id: int) -> Certificate:
    """The member's own certificate; anyone else's, the household
    partner's included, answers 404 (a certificate is personal)."""
    certificate = (
        Certificate.objects.filter(pk=certificate_id, member_id=user.member_id)
        .select_related("ticket", "attachment")
        .first()
    )
    if certificate is None:
        raise Http404
    return certificate


def certificate_by_code(text: str) -> Certificate | None:
    """The certificate whose code this is, or None: one lookup of the
    code's hash in a unique index, whatever was typed."""
    code = code_normal(text)
    if code is None:
        return None
    return Certificate.objects.filter(code_hash=code_hash(code)).first()


def certificate_offers(member: Member) -> list[RequestType]:
    """The forms issuing a certificate at once that this member may use,
    one per kind, for Mein Bereich's buttons. The forms change a few times
    a year: they are cached for a minute (no query on the page), and
    whether the member holds a contract (for forms kept for contract
    holders) comes from the flats the page reads anyway."""
    offers = cache.get(OFFERS_CACHE_KEY)
    if offers is None:
        offers = {}
        types = RequestType.objects.filter(active=True, in_portal=True).exclude(certificate="")
        for request_type in types.order_by("position", "pk"):
            offers.setdefault(request_type.certificate, request_type)
        offers = [offers[kind] for kind in CertificateKind.values if kind in offers]
        cache.set(OFFERS_CACHE_KEY, offers, OFFERS_CACHE_SECONDS)
    has_contract = bool(residences(member))
    return [
        request_type
        for request_type in offers
        if has_contract or request_type.audience != RequestType.Audience.CONTRACT_HOLDERS
    ]
