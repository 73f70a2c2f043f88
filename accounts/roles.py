"""Staff roles as Django groups, kept in step with the code after every migrate."""

from django.contrib.auth.models import Group, Permission

HANDLER = "Bearbeitung"
TEAM_LEAD = "Teamleitung"
ADMIN = "Administration"

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
}


def roles_ensure(**_kwargs) -> None:
    """Create the groups and set exactly the permissions above. Idempotent."""
    for name, perm_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        perms = []
        for dotted in perm_names:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
