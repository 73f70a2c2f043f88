"""Staff roles as Django groups, kept in step with the code after every migrate."""

from django.contrib.auth.models import Group, Permission

HANDLER = "Bearbeitung"
TEAM_LEAD = "Teamleitung"
ADMIN = "Administration"
# Given besides "Bearbeitung" to the member-services staff who upload and
# check members' documents (statements, letters): personal data that the
# other handlers have no business with. Team leads and admins may anyway;
# they publish batches (documents.selectors). The back office checks the
# role itself; its permissions only let its holders read what they need
# for an upload in the administration: the numbers of members, contracts
# and flats, and which blank forms there are.
DOCUMENTS = "Dokumente"

_MASTER_DATA = [
    ("cooperative", "estate"),
    ("cooperative", "building"),
    ("cooperative", "unit"),
    ("members", "member"),
    ("members", "shareholding"),
    ("members", "contract"),
    # Who is on a contract since when (the contract's page lists them).
    ("members", "contractmember"),
]

# Handlers and team leads read master data (a ticket needs the member's unit
# and contract); only admins change it. Master data normally comes from the
# ERP import, so changes by hand are the exception.
# Every staff member records absences and hands open requests to the
# substitute; which absences is narrowed in routing.admin (a handler only
# their own, a team lead also their teams' members', admins everyone's).
_ABSENCES = [f"routing.{action}_absence" for action in ("view", "add", "change", "delete")]
# Text blocks: a team lead writes them for the teams they lead and the shared
# ones (narrowed in tickets.admin); handlers only use them in the back office.
_TEXT_BLOCKS = [
    f"tickets.{action}_cannedresponse" for action in ("view", "add", "change", "delete")
]
# The on-call rota: a team lead plans their teams' shifts (narrowed in
# routing.admin), admins every team's.
_ON_CALL = [f"routing.{action}_oncallshift" for action in ("view", "add", "change", "delete")]

# Handlers do not read requests in the administration: they work them in the
# back office (/bearbeitung/), which shows each person the requests of their
# teams and records who saw what. The ticket admin follows the same rule
# (tickets.admin) for whoever holds the right anyway.
# Every role's permissions are also the admins' (tests/test_admin_security.py):
# an admin may give any role, but never more than she holds (accounts.admin).
ROLE_PERMISSIONS = {
    HANDLER: [f"{app}.view_{model}" for app, model in _MASTER_DATA]
    + ["tickets.view_requesttype", *_ABSENCES],
    TEAM_LEAD: [f"{app}.view_{model}" for app, model in _MASTER_DATA]
    + [
        "accounts.view_user",
        *_ABSENCES,
        "routing.view_routingrule",
        "routing.view_slapolicy",
        *_TEXT_BLOCKS,
        *_ON_CALL,
    ],
    ADMIN: [
        f"{app}.{action}_{model}"
        for app, model in [
            *_MASTER_DATA,
            ("cooperative", "cooperative"),
            ("cooperative", "openinghours"),
            ("accounts", "user"),
            ("tickets", "requesttype"),
            ("tickets", "requestfield"),
            ("routing", "team"),
            ("routing", "routingrule"),
            ("routing", "slapolicy"),
            ("routing", "absence"),
            ("cooperative", "closingday"),
            # Who offers consultations on what, and when (issue 13).
            ("appointments", "appointmenttype"),
            ("appointments", "advisor"),
            ("appointments", "weeklyhours"),
            ("appointments", "availabilityoverride"),
            # Guest apartments and common rooms (issue 13).
            ("rooms", "room"),
            # Blank forms to download (issue 15): with the request forms.
            ("documents", "form"),
        ]
        for action in ("view", "add", "change", "delete")
    ]
    + [
        "accounts.view_activationcode",
        "accounts.add_activationcode",
        "auth.view_group",
        "mail.view_outboundemail",
        # Only to send an e-mail in doubt again (the outbox is read-only).
        "mail.change_outboundemail",
        "audit.view_accesslog",
        "tickets.view_ticket",
        *_TEXT_BLOCKS,
        *_ON_CALL,
    ],
    DOCUMENTS: [f"{app}.view_{model}" for app, model in _MASTER_DATA] + ["documents.view_form"],
}


def roles_ensure(**_kwargs) -> None:
    """Create the groups and set exactly the permissions above. Idempotent.

    Runs after every migrate and flush (so before each transactional test)
    and in every demo and test cast: a handful of statements whatever the
    state, one query for all permissions and one for all grants, instead of
    one per permission."""
    permission_ids = _permission_ids()
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
    new = [Group(name=name) for name in ROLE_PERMISSIONS if name not in groups]
    if new:
        Group.objects.bulk_create(new)
        groups.update((group.name, group) for group in new)
        if not all(group.pk for group in new):  # no keys back from a bulk insert
            groups = {g.name: g for g in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
    wanted = {
        (groups[name].pk, permission_ids[dotted])
        for name, perm_names in ROLE_PERMISSIONS.items()
        for dotted in perm_names
        if dotted in permission_ids
    }
    Grant = Group.permissions.through
    held = set(
        Grant.objects.filter(group__in=groups.values()).values_list("group_id", "permission_id")
    )
    surplus = held - wanted
    for group_id in {group_id for group_id, _ in surplus}:
        Grant.objects.filter(
            group_id=group_id,
            permission_id__in=[perm for group, perm in surplus if group == group_id],
        ).delete()
    Grant.objects.bulk_create(
        Grant(group_id=group_id, permission_id=permission_id)
        for group_id, permission_id in sorted(wanted - held)
    )


def _permission_ids() -> dict[str, int]:
    """Permission ids by "app_label.codename", for every permission named in
    ROLE_PERMISSIONS that exists. Of two with the same app and codename
    (possible with custom permissions) the first in Permission's order, as
    a lookup of each with .first() would choose; a name that does not exist
    (yet) is left out."""
    dotted_names = {dotted for perm_names in ROLE_PERMISSIONS.values() for dotted in perm_names}
    pairs = [dotted.split(".") for dotted in dotted_names]
    found: dict[str, int] = {}
    rows = Permission.objects.filter(
        content_type__app_label__in={app_label for app_label, _ in pairs},
        codename__in={codename for _, codename in pairs},
    ).values_list("content_type__app_label", "codename", "pk")
    for app_label, codename, pk in rows:
        dotted = f"{app_label}.{codename}"
        if dotted in dotted_names:
            found.setdefault(dotted, pk)
    return found
