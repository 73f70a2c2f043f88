from django.http import HttpRequest

from audit.models import AccessLog
from members.models import Member


def access_record(
    *, request: HttpRequest, action: str, subject: str, members: list[Member] | None = None
) -> None:
    """Record that a staff member saw member data; one row per member seen
    (or one row without member for a search)."""
    path = request.get_full_path()[:500]
    rows = [
        AccessLog(actor=request.user, action=action, member=m, subject=subject[:200], path=path)
        for m in (members or [None])
    ]
    AccessLog.objects.bulk_create(rows)
