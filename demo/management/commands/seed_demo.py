from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import ActivationCode, User
from accounts.services import activation_codes_create
from accounts.two_factor import secret_for_typing
from certificates.services import certificate_request
from demo.appointments import appointments_demo_ensure
from demo.cast import DEMO_PASSWORD, authenticator_demo_ensure, build_demo
from demo.documents import documents_demo_ensure
from demo.history import history_demo_ensure
from demo.incidents import incidents_demo_ensure
from demo.notices import notices_demo_ensure
from demo.rooms import rooms_demo_ensure
from demo.routing import routing_demo_ensure
from members.models import Member
from routing.models import ClassifierModel
from tickets.models import Channel, RequestType, Status, Ticket
from tickets.services import ticket_open, ticket_reply, ticket_status_change


class Command(BaseCommand):
    help = "Create or refresh the demo cooperative, the test cast and one unused activation code. Idempotent."

    def handle(self, *args, **options):
        cast = build_demo()
        routing_demo_ensure(hanna=cast.hanna, tom=cast.tom)
        appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)
        rooms_demo_ensure(cast)
        notices_demo_ensure(cast)
        if not ClassifierModel.objects.exists():
            # The demo has no closed tickets yet: learn from the shipped corpus.
            call_command("routing_train", "--corpus", stdout=self.stdout)
        # Half a year of requests and consultations, so the overview
        # (/bearbeitung/ueberblick/) has something to explain; before
        # Alice's, so the reference numbers follow the order received.
        planted = history_demo_ensure(cast)
        if planted:
            self.stdout.write(
                f"History: {planted['requests']} requests ({planted['open']} open), "
                f"{planted['appointments']} consultations."
            )
        self._sample_requests(cast)
        # A planted heating outage: the detector proposes it on its first run.
        incidents_demo_ensure(cast)
        # Documents and forms; a batch waits for a team lead, ZIPs in var/demo/.
        documents = documents_demo_ensure(cast, lena=User.objects.get(email="lena@example.org"))
        # One member without an account, with a fresh code to try activation.
        newcomer = (
            Member.objects.filter(user__isnull=True)
            .exclude(member_number__startswith="2000")
            .order_by("member_number")
            .first()
        )
        ActivationCode.objects.filter(member=newcomer).delete()
        [(member, code, expires_at)] = activation_codes_create(
            members=[newcomer], created_by=cast.ada
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Logins (password: {DEMO_PASSWORD}):")
        for user in User.objects.filter(email__endswith="@example.org").order_by("email"):
            role = "member" if user.member_id else ", ".join(g.name for g in user.groups.all())
            self.stdout.write(f"  {user.email:<22} {role}")
        # Admins and team leads must log in with a second step: their demo
        # logins come with an app key to add to any authenticator app, and
        # recovery codes for trying it without one.
        self.stdout.write("Two-step login (admins and team leads):")
        for user in (cast.ada, cast.tom):
            device, codes = authenticator_demo_ensure(user)
            self.stdout.write(f"  {user.email}: app key {secret_for_typing(device.key)}")
            self.stdout.write(f"    {device.config_url}")
            self.stdout.write(f"    recovery codes (each works once): {', '.join(codes)}")
        self.stdout.write(
            f"Activation: member number {member.member_number}, code {code} "
            f"(valid until {expires_at:%d.%m.%Y})"
        )
        self.stdout.write(
            "Documents: a batch waits for a team lead at "
            f"/bearbeitung/dokumente/stapel/{documents['batch'].public_id}/; "
            "ZIPs to try the bulk upload with: "
            + ", ".join(str(path) for path in documents["zips"])
        )

    def _sample_requests(self, cast):
        """Two requests of Alice's, so the portal and the back office have
        something to show; only once (keyed on Alice having none)."""
        member = cast.alice.member
        if Ticket.objects.filter(member=member).exists():
            return
        repair = ticket_open(
            request_type=RequestType.objects.get(slug="schadensmeldung"),
            member=member,
            answers={
                "room": "bathroom",
                "what": "Der Wasserhahn am Waschbecken tropft ständig.",
                "urgency": "normal",
                "master_key": "yes",
            },
            channel=Channel.PORTAL,
            created_by=cast.alice,
        )
        ticket_reply(
            ticket=repair,
            actor=cast.hanna,
            body="Guten Tag Frau Ahrens, die Firma Klempner Schulz meldet sich bei Ihnen "
            "für einen Termin.",
            expected_version=repair.version,
            public=True,
        )
        # Asked for on the phone, by post: issued at once with the letter for
        # the office to print (certificates), which Hanna then posted.
        certificate = certificate_request(
            request_type=RequestType.objects.get(slug="mitgliedsbescheinigung"),
            member=member,
            answers={"purpose": "Wohngeldantrag", "delivery": "post"},
            channel=Channel.PHONE,
            created_by=cast.hanna,
        ).ticket
        certificate.refresh_from_db()
        ticket_status_change(
            ticket=certificate,
            actor=cast.hanna,
            status=Status.RESOLVED,
            expected_version=certificate.version,
        )
