from django.contrib.auth.backends import ModelBackend
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import ADMIN, DOCUMENTS, TEAM_LEAD


class AccountBackend(ModelBackend):
    """Django's ModelBackend. The user it loads for every request also says
    whether its login needs the second step (`User.needs_second_step`) and
    whether it is a team lead's or an admin's (`User.is_lead_or_admin`, the
    staff navigation asks) and whether it holds the documents role
    (`User.has_documents_role`, likewise), in the same query: all run on
    every request."""

    def get_user(self, user_id):
        lead_or_admin = Exists(
            User.groups.through.objects.filter(
                user=OuterRef("pk"), group__name__in=[ADMIN, TEAM_LEAD]
            )
        )
        needs = ExpressionWrapper(
            Q(Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
            | Q(is_staff=True, is_superuser=True)
            | Q(
                Q(is_staff=True)
                & Q(
                    Exists(
                        User.groups.through.objects.filter(
                            user=OuterRef("pk"), group__name__in=[ADMIN, TEAM_LEAD]
                        )
                    )
                )
            ),
            output_field=BooleanField(),
        )
        documents = Exists(
            User.groups.through.objects.filter(user=OuterRef("pk"), group__name=DOCUMENTS)
        )
        # The member row in the same query: every member page needs it.
        user = (
            User.objects.annotate(
                second_step_row=needs, lead_or_admin_row=lead_or_admin, documents_row=documents
            )
            .select_related("member")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
