import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError

from accounts import roles
from accounts.models import User

pytestmark = pytest.mark.django_db


def test_migrate_creates_the_three_roles_with_their_permissions():
    handler = Group.objects.get(name=roles.HANDLER)
    admin = Group.objects.get(name=roles.ADMIN)
    assert Group.objects.get(name=roles.TEAM_LEAD)
    handler_perms = {p.codename for p in handler.permissions.all()}
    assert "view_member" in handler_perms and "change_member" not in handler_perms
    assert {"add_activationcode", "change_member"} <= {p.codename for p in admin.permissions.all()}


def test_roles_ensure_is_idempotent_and_repairs_changes():
    handler = Group.objects.get(name=roles.HANDLER)
    handler.permissions.clear()
    roles.roles_ensure()
    roles.roles_ensure()
    assert Group.objects.filter(name=roles.HANDLER).count() == 1
    assert handler.permissions.count() == len(roles.ROLE_PERMISSIONS[roles.HANDLER])


def test_a_staff_account_can_never_be_a_member_account(cast):
    with pytest.raises(IntegrityError):
        User.objects.filter(pk=cast.alice.pk).update(is_staff=True)


def test_email_addresses_are_unique_regardless_of_case(cast):
    with pytest.raises(IntegrityError):
        User.objects.create(email="ALICE@example.org")
