"""The demo and test cast (demo.cast.build_demo) on an empty database is
inserted in bulk, in a few dozen statements whatever its size; on a database
that has it, build_demo finds every row and changes nothing; and the update
path, made to run where the bulk path would, builds exactly the same data.
Likewise the roles (accounts.roles) and the demo teams and forms
(demo.request_types)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts import roles
from accounts.models import User
from cooperative.models import Building, Cooperative, Estate, OpeningHours, Unit
from demo.cast import build_demo
from demo.request_types import tickets_demo_ensure
from members.models import Contract, ContractMember, Member, Shareholding
from routing.models import Team
from tickets.models import Category, FieldKind, RequestField, RequestType

pytestmark = pytest.mark.django_db

# Measured: 66 statements on SQLite, about as many on PostgreSQL. One
# statement per row would be well over a thousand.
CAST_STATEMENTS = 80

# How each referenced row is named in the dump instead of by its id.
NATURAL_KEYS = {
    Cooperative: ("name",),
    User: ("email",),
    Group: ("name",),
    Permission: ("content_type__app_label", "codename"),
    Estate: ("number",),
    Building: ("street", "house_number", "postcode"),
    Unit: ("number",),
    Member: ("member_number",),
    Contract: ("number",),
    Team: ("name",),
    RequestType: ("slug",),
}
# Every table build_demo writes, the many-to-many tables included.
MODELS = [
    Cooperative,
    OpeningHours,
    User,
    User.groups.through,
    Group,
    Group.permissions.through,
    Estate,
    Building,
    Unit,
    Member,
    Shareholding,
    Contract,
    ContractMember,
    Team,
    Team.members.through,
    RequestType,
    RequestField,
]
TIMESTAMPS = {"created_at", "updated_at", "date_joined"}


def _named(model) -> dict:
    fields = NATURAL_KEYS[model]
    return {pk: tuple(rest) for pk, *rest in model.objects.values_list("pk", *fields)}


def _rows(model) -> list[tuple]:
    """Every row of the table: its fields but the id and the timestamps,
    a foreign key as the natural key of the row it points to."""
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in TIMESTAMPS
    ]
    names = {field.name: _named(field.related_model) for field in fields if field.is_relation}
    rows = [
        tuple(
            (field.name, names[field.name][value])
            if field.is_relation and value is not None
            else (field.name, value)
            for field, value in zip(fields, values, strict=True)
        )
        for values in model.objects.values_list(*(field.attname for field in fields))
    ]
    return sorted(rows, key=repr)


def _dump() -> dict[str, list[tuple]]:
    return {model._meta.label: _rows(model) for model in MODELS}


def _ids() -> dict[str, set[int]]:
    return {model._meta.label: set(model.objects.values_list("pk", flat=True)) for model in MODELS}


def _statements(function, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        function(**kwargs)
    return len(queries)


def test_the_cast_is_inserted_in_bulk_and_a_rerun_finds_it_unchanged():
    assert not Estate.objects.exists()
    statements = _statements(build_demo, units_per_building=4)
    inserted = _dump()
    ids = _ids()
    assert len(inserted["members.Member"]) == 3 * 4 * 4 + 3
    assert len(inserted["tickets.RequestType"]) == 17

    # The rerun takes the update path (a second bulk insert would break the
    # unique numbers): it finds every row and leaves it as it was.
    assert _statements(build_demo, units_per_building=4) > 10 * statements
    assert _dump() == inserted
    assert _ids() == ids
    assert statements <= CAST_STATEMENTS


def test_the_bulk_path_does_not_grow_with_the_stock():
    """One statement per table, not per row: a cast four times as large
    costs the same statements."""
    with transaction.atomic():
        small = _statements(build_demo, units_per_building=1)
        transaction.set_rollback(True)
    large = _statements(build_demo, units_per_building=4)
    assert Unit.objects.count() == 3 * 4 * 4 + 2
    assert small == large


def test_the_update_path_builds_the_same_cast_as_the_bulk_path():
    with transaction.atomic():
        build_demo(units_per_building=4)
        inserted = _dump()
        transaction.set_rollback(True)

    # A database with one estate, one demo team and one demo form already
    # there, the estate and the form different from the demo (a team keeps
    # its own settings on a rerun): build_demo and the demo forms take their
    # update paths and must end where the bulk paths did.
    Estate.objects.create(number="WA-03", name="Alte Anlage")
    team = Team.objects.create(name="Vermietung")
    old_form = RequestType.objects.create(
        slug="allgemein",
        name_de="Alt",
        name_en="Old",
        category=Category.REPAIR,
        default_team=team,
        position=99,
    )
    RequestField.objects.create(
        request_type=old_form, key="gone", kind=FieldKind.TEXT, label_de="x", label_en="x"
    )
    RequestField.objects.create(
        request_type=old_form, key="subject", kind=FieldKind.DATE, label_de="x", label_en="x"
    )

    assert _statements(build_demo, units_per_building=4) > 10 * CAST_STATEMENTS
    updated = _dump()
    assert updated.keys() == inserted.keys()
    for table, rows in inserted.items():
        assert updated[table] == rows, table


def test_the_demo_forms_from_nothing_match_the_update_path():
    """tickets_demo_ensure alone (no staff cast, no teams): bulk, then the
    update path on the same rows changes nothing."""
    statements = _statements(tickets_demo_ensure)
    inserted = _dump()
    ids = _ids()
    assert _statements(tickets_demo_ensure) > 10 * statements
    assert _dump() == inserted
    assert _ids() == ids
    assert statements <= 10


def _expected_permission_ids(perm_names: list[str]) -> set[int]:
    # The lookup roles_ensure once made one query per name: the first
    # permission of that app and codename, names that do not exist skipped.
    expected = set()
    for dotted in perm_names:
        app_label, codename = dotted.split(".")
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            expected.add(permission.pk)
    return expected


def _held() -> dict[str, set[int]]:
    return {
        name: set(Group.objects.get(name=name).permissions.values_list("pk", flat=True))
        for name in roles.ROLE_PERMISSIONS
    }


def test_roles_from_nothing_hold_exactly_the_named_permissions():
    Group.objects.filter(name__in=roles.ROLE_PERMISSIONS).delete()
    assert _statements(roles.roles_ensure) <= 6
    expected = {
        name: _expected_permission_ids(perm_names)
        for name, perm_names in roles.ROLE_PERMISSIONS.items()
    }
    assert _held() == expected
    assert all(expected.values())
    assert [group.name for group in Group.objects.order_by("pk")] == list(roles.ROLE_PERMISSIONS)


def test_roles_ensure_takes_away_what_is_not_named_and_restores_what_is():
    handler = Group.objects.get(name=roles.HANDLER)
    handler.permissions.remove(Permission.objects.get(codename="view_member"))
    handler.permissions.add(*Permission.objects.filter(codename__in=["delete_member", "add_unit"]))
    Group.objects.get(name=roles.ADMIN).permissions.clear()
    assert _statements(roles.roles_ensure) <= 8
    assert _held() == {
        name: _expected_permission_ids(perm_names)
        for name, perm_names in roles.ROLE_PERMISSIONS.items()
    }
    # Unchanged: three reads, nothing written.
    assert _statements(roles.roles_ensure) == 3
