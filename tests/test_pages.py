"""The small pages and details a newcomer meets first: Impressum and
Datenschutz (text from the cooperative's settings, linked in every footer),
the contact page's forms for a new name or address, text blocks in the
administration, staff pages without English labels, and the demo's e-mail
(one file per message, links to the port the demo runs on)."""

import email
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext, override

from accounts.services import activation_codes_create
from cooperative.cache import cooperative_cache_clear
from cooperative.models import Cooperative
from mail.backends import EmlFileBackend
from mail.models import OutboundEmail
from members.models import Member
from routing.models import Absence, RoutingRule, SlaPolicy, Team
from tests.factories import ticket_create
from tests.helpers import de, otp_verify
from tickets.models import CannedResponse, Category, Channel, RequestType

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
IMPRINT = "/impressum/"
PRIVACY = "/datenschutz/"
CONTACT = "/mein-bereich/kontakt/"
TEXT_BLOCKS = "/verwaltung/tickets/cannedresponse/"


def _cooperative(**texts) -> Cooperative:
    cooperative = Cooperative.objects.get()
    for name, value in texts.items():
        setattr(cooperative, name, value)
    cooperative.save()
    cooperative_cache_clear()
    return cooperative


def _footer(response) -> str:
    return response.content.decode().split('<footer class="site-footer">', 1)[1]


# Impressum and Datenschutz ------------------------------------------------------


@pytest.mark.parametrize(("url", "field"), [(IMPRINT, "imprint"), (PRIVACY, "privacy_notice")])
def test_it_shows_the_cooperatives_text_to_anyone(client, cast, url, field):
    _cooperative(**{field: "Vorstand: Petra Muster\nKlaus Beispiel\n\n<b>Register</b> GnR 123"})
    for who in (None, cast.alice, cast.hanna):
        if who is not None:
            client.force_login(who)
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        # Blank lines make paragraphs, single ones line breaks; markup typed
        # in the administration is shown as text.
        assert "<p>Vorstand: Petra Muster<br>Klaus Beispiel</p>" in html
        assert "<p>&lt;b&gt;Register&lt;/b&gt; GnR 123</p>" in html
        assert "<b>Register</b>" not in html


def test_without_a_text_it_names_the_cooperative_and_says_that_the_text_follows(client, cast):
    cooperative = _cooperative(imprint="  \n", privacy_notice="")
    imprint = client.get(IMPRINT).content.decode()
    for part in (cooperative.name, cooperative.street, cooperative.city, cooperative.email):
        assert part in imprint
    assert 'href="tel:030123456-0"' in imprint
    assert de("Provider") in imprint
    assert de("The complete legal notice will follow here shortly.") in imprint
    privacy = client.get(PRIVACY).content.decode()
    assert cooperative.name in privacy and cooperative.street in privacy
    assert de("Responsible for your data") in privacy
    assert (
        de(
            "The complete privacy notice will follow here shortly. Until then the office "
            "will gladly answer your questions about how we handle your data."
        )
        in privacy
    )


def test_every_footer_links_both_pages_for_members_staff_and_strangers(client, cast):
    for who, url in [
        (None, "/"),
        (None, "/anmelden/"),
        (cast.alice, "/mein-bereich/"),
        (cast.hanna, "/bearbeitung/"),
        (cast.hanna, "/bearbeitung/anruf/"),
    ]:
        if who is not None:
            client.force_login(who)
        footer = _footer(client.get(url))
        assert f'href="{IMPRINT}"' in footer and f'href="{PRIVACY}"' in footer, (who, url)
        assert de("Legal notice") in footer and de("Privacy") in footer


def test_the_pages_open_before_the_second_login_step(client, cast):
    # Ada logged in with her password but has not typed her code yet: the
    # footer of the code page links the pages, so they must open.
    client.force_login(cast.ada)
    assert client.get("/bearbeitung/").status_code == 302
    assert client.get(IMPRINT).status_code == 200
    assert client.get(PRIVACY).status_code == 200


def test_they_refuse_other_methods(client, cast):
    assert client.post(IMPRINT).status_code == 405
    client.force_login(cast.alice)
    assert client.post(PRIVACY).status_code == 405


def test_the_pages_need_no_query_for_strangers_and_few_for_members(
    client, cast, django_assert_num_queries, django_assert_max_num_queries
):
    client.get(IMPRINT)  # the cooperative is cached for every page
    with django_assert_num_queries(0):
        assert client.get(IMPRINT).status_code == 200
    client.force_login(cast.alice)
    client.get(PRIVACY)
    # The session, the account, the unread badge: as on any member page.
    with django_assert_max_num_queries(4):
        assert client.get(PRIVACY).status_code == 200


def test_the_cooperative_admin_holds_both_texts_and_every_other_field(client, cast):
    cooperative_admin = admin.site._registry[Cooperative]
    editable = {
        field.name
        for field in Cooperative._meta.fields
        if field.editable and not field.primary_key and field.name not in ("created_at",)
    }
    assert set(flatten_fieldsets(cooperative_admin.fieldsets)) == editable
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    cooperative = Cooperative.objects.get()
    page = client.get(f"/verwaltung/cooperative/cooperative/{cooperative.pk}/change/")
    form = page.context["adminform"].form
    assert {"imprint", "privacy_notice"} <= set(form.fields)
    assert de("Legal notice and privacy") in page.content.decode()


# The contact page and the address-change form -------------------------------------


def test_the_contact_page_leads_to_the_forms_for_a_new_name_or_address(client, cast):
    client.force_login(cast.alice)
    page = client.get(CONTACT).content.decode()
    for slug in ("namensaenderung", "adressaenderung", "wohnungswechsel"):
        url = reverse("tickets:form", args=[slug])
        assert f'href="{url}"' in page
        assert client.get(url).status_code == 200, slug
    assert de("Change of address") in page


def test_a_change_of_address_is_personal_and_reaches_the_members_office(client, cast):
    address = RequestType.objects.get(slug="adressaenderung")
    assert address.category == Category.MEMBERSHIP and not address.shared_with_household
    assert address.audience == RequestType.Audience.MEMBERS
    assert address.default_team.name == "Mitgliederwesen"
    ticket = ticket_create(
        request_type=address,
        answers={
            "street": "Lindenstraße 4",
            "postcode": "14467",
            "city": "Potsdam",
            "valid_from": "2027-01-01",
        },
    )
    client.force_login(cast.alice)
    assert client.get(f"/anliegen/{ticket.reference}/").status_code == 200
    client.force_login(cast.bob)
    assert client.get(f"/anliegen/{ticket.reference}/").status_code == 404


# Text blocks in the administration ------------------------------------------------


def test_an_admin_opens_adds_changes_and_deletes_text_blocks(client, cast):
    # Ada leads no team: the Administration role alone lets her manage every
    # text block (accounts.roles); without those rights the list was a 403.
    accounting = Team.objects.get(name="Rechnungswesen")
    theirs = CannedResponse.objects.create(
        title="Zahlung eingegangen", body_de="Guten Tag {anrede}", team=accounting
    )
    shared = CannedResponse.objects.create(title="Danke", body_de="Vielen Dank")
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    assert f'href="{TEXT_BLOCKS}"' in client.get("/verwaltung/").content.decode()
    listing = client.get(TEXT_BLOCKS)
    assert listing.status_code == 200
    assert set(listing.context["cl"].result_list) == {theirs, shared}
    for block in (theirs, shared):
        page = client.get(f"{TEXT_BLOCKS}{block.pk}/change/")
        assert page.status_code == 200 and block.title in page.content.decode()
    new = {"title": "Termin", "body_de": "Guten Tag {anrede}", "body_en": "", "team": ""}
    assert client.post(f"{TEXT_BLOCKS}add/", new).status_code == 302
    added = CannedResponse.objects.get(title="Termin")
    changed = {**new, "body_de": "Neu", "team": accounting.pk}
    assert client.post(f"{TEXT_BLOCKS}{added.pk}/change/", changed).status_code == 302
    added.refresh_from_db()
    assert (added.body_de, added.team) == ("Neu", accounting)
    assert client.post(f"{TEXT_BLOCKS}{added.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not CannedResponse.objects.filter(pk=added.pk).exists()


# No English on German staff pages -----------------------------------------------

# Field names Django shows when a field has no translated label, and the
# English of the labels added for them: none may stay on a German page.
ENGLISH = [
    "Created at",
    "Updated at",
    "Created by",
    "Last changed at",
    "Code hash",
    "Warn at",
    "Warned at",
    "Breached at",
    "Sla paused",
    "activity at",
    "On call alerted at",
    "Claim",
    "Delivery token",
    "warning due",
    "overdue since",
    "Last assignee",
]


def _text(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", response.content.decode(), flags=re.S)
    return " ".join(strip_tags(html).split())


def _admin_pages() -> list[str]:
    """Every model page of the administration: the list, "add", and the
    first row's page."""
    urls = []
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        urls.append(reverse("admin:{}_{}_add".format(*info)))
        row = model._default_manager.order_by("pk").first()
        if row is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
    return urls


def test_german_staff_pages_show_no_english_labels(client, cast):
    repair = ticket_create()
    by_mail = ticket_create(channel=Channel.EMAIL)
    technik = Team.objects.get(name="Technik")
    CannedResponse.objects.create(title="Danke", body_de="Vielen Dank", team=technik)
    today = timezone.localdate()
    Absence.objects.create(user=cast.hanna, kind="vacation", starts=today, ends=today)
    policy = SlaPolicy.objects.create(name="Schnell", first_response_hours=4, resolution_days=2)
    RoutingRule.objects.create(name="Technik", team=technik, sla_policy=policy)
    # An activation letter, so its list has a row with columns.
    newcomer = Member.objects.filter(user__isnull=True).order_by("pk").first()
    activation_codes_create(members=[newcomer], created_by=cast.ada)
    client.force_login(cast.ada)
    otp_verify(client, cast.ada)
    pages = [
        *_admin_pages(),
        "/bearbeitung/",
        f"/bearbeitung/anliegen/{repair.reference}/",
        f"/bearbeitung/anliegen/{by_mail.reference}/",
        "/bearbeitung/anruf/",
    ]
    found = []
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue  # pages only a superuser opens
        text = _text(response)
        found += [f"{url}: {word}" for word in ENGLISH if word.lower() in text.lower()]
    assert not found, "\n".join(found)


def test_the_e_mail_channel_reads_e_mail_not_e_mail_address(client, cast):
    with override("de"):
        assert str(Channel.EMAIL.label) == "E-Mail"
        # The same English word as an address field's label stays the address.
        assert gettext("e-mail") == "E-Mail-Adresse"
    ticket = ticket_create(channel=Channel.EMAIL)
    client.force_login(cast.hanna)
    page = client.get(f"/bearbeitung/anliegen/{ticket.reference}/").content.decode()
    channel = re.search(r"<dt>{}</dt><dd>([^<(]*)".format(re.escape(de("Channel"))), page)
    assert channel.group(1).strip() == "E-Mail"
    inbox = client.get("/bearbeitung/").content.decode()
    assert re.search(r'<option value="email"[^>]*>E-Mail</option>', inbox)


# The demo's e-mail ----------------------------------------------------------------


def test_the_demo_backend_writes_one_file_per_message(tmp_path):
    connection = EmlFileBackend(file_path=str(tmp_path))
    messages = [
        mail.EmailMessage(f"Nachricht {n}", f"Text {n}", to=[f"person{n}@example.org"])
        for n in (1, 2, 3)
    ]
    # One connection, three messages: three files (Django's file backend
    # writes every message of a connection into one file).
    assert connection.send_messages(messages) == 3
    files = sorted(tmp_path.iterdir())
    assert [path.suffix for path in files] == [".eml"] * 3
    read = [email.message_from_bytes(path.read_bytes()) for path in files]
    # The names sort in the order the messages were written.
    assert [message["Subject"] for message in read] == ["Nachricht 1", "Nachricht 2", "Nachricht 3"]
    assert [message["To"] for message in read] == [f"person{n}@example.org" for n in (1, 2, 3)]
    assert "person1@example.org" in files[0].name
    mail.get_connection("mail.backends.EmlFileBackend", file_path=str(tmp_path)).send_messages(
        [mail.EmailMessage("Nachricht 4", "Text", to=["x@example.org"])]
    )
    assert len(list(tmp_path.iterdir())) == 4


def _setting(name: str, **environment) -> str:
    """A setting as a fresh process reads it from this environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "EMAIL_", "GENOPORTAL_"))
    }
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", **environment},
    )
    return result.stdout.strip()


def test_the_demo_writes_eml_files_and_production_sends_by_smtp():
    assert _setting("EMAIL_BACKEND") == "mail.backends.EmlFileBackend"
    production = _setting("EMAIL_BACKEND", DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 50)
    assert production == "django.core.mail.backends.smtp.EmailBackend"


def test_seeding_writes_links_to_the_port_the_demo_runs_on(cast, settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    call_command("seed_demo", stdout=io.StringIO())
    bodies = list(OutboundEmail.objects.values_list("body", flat=True))
    assert any("http://127.0.0.1:8123/anliegen/" in body for body in bodies)
    assert not any(re.search(r"https?://(?!127\.0\.0\.1:8123/)[\w.:-]+/", b) for b in bodies)


def test_make_demo_hands_its_address_to_the_seeding_and_the_server():
    result = subprocess.run(
        ["make", "--dry-run", "demo", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    [seed] = [line for line in lines if "seed_demo" in line]
    assert "GENOPORTAL_SITE_URL=http://127.0.0.1:8123 " in seed
    [server] = [line for line in lines if "GENOPORTAL_SITE_URL" in line and "seed_demo" not in line]
    assert "export GENOPORTAL_SITE_URL=http://127.0.0.1:8123;" in server
    assert "make demo PORT=" in (ROOT / "README.md").read_text()
