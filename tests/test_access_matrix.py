"""Who reaches which page: every route of the URL resolver (the Django
admin's generated pages included) requested with GET by each of the seven
roles, with real object ids of other people, against a table written down
here. Redirects are not followed; a redirect to the login must go there.

A route without an entry fails the test by name, so no page is added
without deciding who may open it; an entry without a route fails too. The
table is not computed from the permissions the code uses: it says what
docs/security.md and the domain's "who sees what" promise each role.

Each role is one test: one login, every route, and the whole list of wrong
cells at the end. A session that has the password but still owes the
second login step is tried on every route too."""

import datetime
import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticDevice
from django_tasks_db.models import DBTaskResult, get_date_max
from PIL import Image

from accounts import roles
from accounts.models import ActivationCode, User
from accounts.services import account_activate, activation_codes_create, email_change_request
from accounts.two_factor import recovery_codes_renew
from appointments.models import AppointmentType
from appointments.selectors import slots_free
from appointments.services import advisor_feed_renew, appointment_book
from audit.models import AccessLog
from certificates.codes import code_grouped, code_hash, code_new
from certificates.models import Certificate
from certificates.services import certificate_request
from cooperative.models import Cooperative
from demo.appointments import appointments_demo_ensure
from demo.cast import staff_ensure
from demo.documents import forms_demo_ensure
from demo.pdf import pdf_simple
from demo.rooms import rooms_demo_ensure
from documents.models import DocumentKind
from documents.services import About, batch_check, batch_publish, document_publish
from incidents.models import Incident, IncidentStatus, IncidentTicket
from mail.models import InboundEmail, OutboundEmail
from members.models import Contract, Member
from notices.models import NoticeKind
from notices.services import NoticeContent, notice_draft_save, notice_publish
from privacy.services import data_export_prepare, data_export_request
from rooms.models import Room, RoomKind
from rooms.services import room_book, room_span
from routing.models import Absence, OnCallShift, RoutingRule, SlaPolicy, Team
from tests.factories import photo, ticket_create
from tests.helpers import otp_device, otp_verify
from tickets.files import CleanFile, file_clean
from tickets.models import Attachment, CannedResponse, Channel, RequestType
from tickets.services import draft_save, ticket_member_reply

pytestmark = pytest.mark.django_db

ROLES = ("anon", "alice", "bob", "dave", "hanna", "tom", "ada")

# A redirect to the login page. The admin sends people to its own login
# address, which is itself a redirect to ours (the "verwaltung/login/" row).
L = "login"
# Redirects to the second login step: the code page, and adding an app.
CODE = "code"
SETUP = "setup"

# The table ------------------------------------------------------------------------
#
# One row per route: what anonymous, alice, bob (her household partner), dave
# (outsider), hanna (handler), tom (team lead) and ada (admin) get, in that
# order: a status code, or L (a redirect to the login; 302 is a redirect
# anywhere else). A route's key is its name, or for an unnamed pattern the
# pattern itself. "name [case]" rows request the same route once
# more with another object (see the `world` fixture for which).
#
# The objects: alice's repair report (Technik: hanna's team, tom leads it;
# about the flat, so bob's too), with a photo she sent; her new bank details
# (Rechnungswesen: neither hanna's nor tom's team; personal, so not bob's),
# with a scan; a repair report she has begun, with a photo (her draft); a
# request the previous tenant of dave's flat filed before dave moved in.

# fmt: off
ROUTES = {
    #                                          anon  alice  bob  dave  hanna  tom  ada
    # Start page: members go on to Mein Bereich, staff to the inbox.
    "portal:home":                             (200,  302,  302,  302,  302,  302,  302),
    "portal:member_home":                      (L,    200,  200,  200,  404,  404,  404),
    "portal:language_set":                     (405,  405,  405,  405,  405,  405,  405),
    "portal:healthz":                          (200,  200,  200,  200,  200,  200,  200),
    "portal:logo":                             (200,  200,  200,  200,  200,  200,  200),
    # Impressum and Datenschutz: public, linked in every page's footer.
    "portal:imprint":                          (200,  200,  200,  200,  200,  200,  200),
    "portal:privacy":                          (200,  200,  200,  200,  200,  200,  200),
    # Meine Mitgliedschaft (issue 15, point 4): the member's own shares and
    # bookings; the page takes no member from its address.
    "portal:membership":                       (L,    200,  200,  200,  404,  404,  404),
    # The accessibility statement and its barrier report (issue 15, point 6):
    # for everyone, without a login too (not everyone with a barrier can log
    # in). The confirmation reads the reference from the session that sent
    # the report; without one it sends back to the form.
    "portal:accessibility":                    (200,  200,  200,  200,  200,  200,  200),
    "portal:accessibility_report":             (200,  200,  200,  200,  200,  200,  200),
    "portal:accessibility_report_sent":        (302,  302,  302,  302,  302,  302,  302),
    # Logged in, the login page sends people to the start page.
    "accounts:login":                          (200,  302,  302,  302,  302,  302,  302),
    "accounts:session_status":                 (401,  204,  204,  204,  204,  204,  204),
    "accounts:logout":                         (405,  405,  405,  405,  405,  405,  405),
    "accounts:activation_start":               (200,  200,  200,  200,  200,  200,  200),
    # Without a checked letter code (or a sent link) in the session: back to step 1.
    "accounts:activation_details":             (302,  302,  302,  302,  302,  302,  302),
    "accounts:activation_sent":                (302,  302,  302,  302,  302,  302,  302),
    # A newcomer's link: opening it shows the form; confirming needs her password.
    "accounts:activation_confirm":             (200,  200,  200,  200,  200,  200,  200),
    "accounts:password_reset":                 (200,  200,  200,  200,  200,  200,  200),
    "accounts:password_reset_done":            (200,  200,  200,  200,  200,  200,  200),
    # Alice's reset link leads whoever holds it to the new-password form; for
    # alice herself it is dead: logging in (force_login) ends a reset link.
    "accounts:password_reset_confirm":         (302,  200,  302,  302,  302,  302,  302),
    "accounts:password_reset_complete":        (200,  200,  200,  200,  200,  200,  200),
    "accounts:password_change":                (L,    200,  200,  200,  200,  200,  200),
    "accounts:password_change_done":           (L,    200,  200,  200,  200,  200,  200),
    # Two-step login. Tom and ada (a team lead, an admin) must use an app and
    # are logged in with its code; the others have none.
    # The code page: after the password; a finished login goes on to the start.
    "accounts:login_code":                     (L,    302,  302,  302,  302,  302,  302),
    "accounts:security":                       (L,    200,  200,  200,  200,  200,  200),
    # Adding an app; with one there already, back to the overview.
    "accounts:two_factor_setup":               (L,    200,  200,  200,  200,  302,  302),
    # Without an app there is nothing to turn off; leads and admins may not.
    "accounts:two_factor_off":                 (L,    302,  302,  302,  302,  404,  404),
    "accounts:recovery_codes":                 (L,    302,  302,  302,  302,  200,  200),
    "accounts:contact_edit":                   (L,    200,  200,  200,  404,  404,  404),
    "accounts:email_change":                   (L,    200,  200,  200,  404,  404,  404),
    # Alice's link to her new address: it works for her account only.
    "accounts:email_change_confirm":           (L,    302,  400,  400,  400,  400,  400),
    "tickets:list":                            (L,    200,  200,  200,  404,  404,  404),
    "tickets:new":                             (L,    200,  200,  200,  404,  404,  404),
    "tickets:form":                            (L,    200,  200,  200,  404,  404,  404),
    # Without a draft of one's own the review sends back to the form.
    "tickets:review":                          (L,    200,  302,  302,  404,  404,  404),
    # A draft is its author's alone, even within the household.
    "tickets:draft_attachment":                (L,    200,  404,  404,  404,  404,  404),
    "tickets:draft_attachment_remove":         (L,    405,  405,  405,  404,  404,  404),
    "tickets:detail":                          (L,    200,  200,  404,  404,  404,  404),
    "tickets:detail [personal request]":       (L,    200,  404,  404,  404,  404,  404),
    "tickets:detail [previous tenant]":        (L,    404,  404,  404,  404,  404,  404),
    # POST only: the method is refused before any request is looked up, so a
    # reference is neither confirmed nor denied.
    "tickets:reopen":                          (L,    405,  405,  405,  404,  404,  404),
    "tickets:rate":                            (L,    405,  405,  405,  404,  404,  404),
    "tickets:withdraw":                        (L,    405,  405,  405,  404,  404,  404),
    "tickets:share":                           (L,    405,  405,  405,  404,  404,  404),
    "tickets:attachment":                      (L,    200,  200,  404,  404,  404,  404),
    "tickets:attachment [personal request]":   (L,    200,  404,  404,  404,  404,  404),
    # A copy of one's data (issue 15, privacy): every member asks for their
    # own; alice's ready ZIP is hers alone, not her household's.
    "privacy:export":                          (L,    200,  200,  200,  404,  404,  404),
    "privacy:download":                        (L,    200,  404,  404,  404,  404,  404),
    # Certificates (issue 15, point 3): alice's membership certificate is
    # hers alone, never her household's; members file one through the form
    # (POST issues it at once). The check of a code is public; a made-up
    # code is a neutral "not found" for everyone.
    "certificates:request":                    (L,    200,  200,  200,  404,  404,  404),
    "certificates:issue":                      (L,    405,  405,  405,  404,  404,  404),
    "certificates:detail":                     (L,    200,  404,  404,  404,  404,  404),
    "certificates:download":                   (L,    200,  404,  404,  404,  404,  404),
    "certificates:verify":                     (200,  200,  200,  200,  200,  200,  200),
    "certificates:verify_code":                (200,  200,  200,  200,  200,  200,  200),
    "certificates:verify_code [not valid]":    (404,  404,  404,  404,  404,  404,  404),
    # Appointments (issue 13): members book; staff have no member pages.
    "appointments:list":                       (L,    200,  200,  200,  404,  404,  404),
    "appointments:new":                        (L,    200,  200,  200,  404,  404,  404),
    "appointments:slots":                      (L,    200,  200,  200,  404,  404,  404),
    # Without a chosen time: back to the free times.
    "appointments:confirm":                    (L,    302,  302,  302,  404,  404,  404),
    # Alice's booking is hers alone, not her household's.
    "appointments:detail":                     (L,    200,  404,  404,  404,  404,  404),
    "appointments:cancel":                     (L,    200,  404,  404,  404,  404,  404),
    "appointments:move":                       (L,    200,  404,  404,  404,  404,  404),
    "appointments:ics":                        (L,    200,  404,  404,  404,  404,  404),
    # The e-mail's link: the token is the key, whoever holds it; a wrong
    # one is a friendly "no longer valid" page.
    "appointments:link":                       (200,  200,  200,  200,  200,  200,  200),
    "appointments:link [not valid]":           (404,  404,  404,  404,  404,  404,  404),
    "appointments:link_move":                  (200,  200,  200,  200,  200,  200,  200),
    "appointments:link_move [not valid]":      (404,  404,  404,  404,  404,  404,  404),
    # Guest apartments and common rooms (issue 13): the common room is kept
    # for the residents of alice's estate (dave lives elsewhere).
    "rooms:list":                              (L,    200,  200,  200,  404,  404,  404),
    "rooms:room":                              (L,    200,  200,  200,  404,  404,  404),
    "rooms:room [residents only]":             (L,    200,  200,  404,  404,  404,  404),
    # Without dates: the room's page with what is missing.
    "rooms:confirm":                           (L,    400,  400,  400,  404,  404,  404),
    # Alice's booking is hers alone.
    "rooms:booking":                           (L,    200,  404,  404,  404,  404,  404),
    "rooms:cancel":                            (L,    200,  404,  404,  404,  404,  404),
    # The team looking after the room (Vermietung: not hanna's), team
    # leads and admins; hanna's own team's room.
    "backoffice:room_bookings":                (L,    404,  404,  404,  200,  200,  200),
    "backoffice:room_booking":                 (L,    404,  404,  404,  404,  200,  200),
    "backoffice:room_booking_decline":         (L,    404,  404,  404,  404,  200,  200),
    "backoffice:room_booking_cancel":          (L,    404,  404,  404,  404,  200,  200),
    # Booking for a caller from the phone log: any staff member, for
    # alice (the hall: her estate's residents only).
    "backoffice:room_book":                    (L,    404,  404,  404,  200,  200,  200),
    "backoffice:room_book_room":               (L,    404,  404,  404,  200,  200,  200),
    "backoffice:room_book_confirm":            (L,    404,  404,  404,  400,  400,  400),
    # What to tell the caller: who booked it, or the room's team.
    "backoffice:room_booked":                  (L,    404,  404,  404,  200,  200,  200),
    "backoffice:room_booking [own team]":      (L,    404,  404,  404,  200,  200,  200),
    "backoffice:room_booking_decline [own team]": (L, 404,  404,  404,  200,  200,  200),
    # Notices (issue 14, point 5): members read those for their building;
    # every staff member sees all and writes drafts; the estate's property
    # manager (hanna for alice's estate, not dave's), team leads and
    # admins publish and withdraw; a published notice is not edited.
    "notices:list":                            (L,    200,  200,  200,  404,  404,  404),
    "backoffice:notices":                      (L,    404,  404,  404,  200,  200,  200),
    "backoffice:notice_new":                   (L,    404,  404,  404,  200,  200,  200),
    "backoffice:notice":                       (L,    404,  404,  404,  200,  200,  200),
    "backoffice:notice_edit":                  (L,    404,  404,  404,  200,  200,  200),
    "backoffice:notice_edit [published]":      (L,    404,  404,  404,  302,  302,  302),
    "backoffice:notice_publish":               (L,    404,  404,  404,  200,  200,  200),
    "backoffice:notice_publish [other estate]": (L,   404,  404,  404,  302,  200,  200),
    "backoffice:notice_withdraw":              (L,    404,  404,  404,  200,  200,  200),
    "backoffice:notice_withdraw [other estate]": (L,  404,  404,  404,  302,  200,  200),
    # Documents (issue 15, point 1): alice's own invitation, her
    # household's statement, and the statement of frieda, who lived in
    # dave's flat before him. Member services (not hanna's team), team leads
    # and admins work them; leads and admins publish and withdraw batches
    # (a checked one; the published one below). Forms to download: public.
    "documents:list":                          (L,    200,  200,  200,  404,  404,  404),
    "documents:download":                      (L,    200,  404,  404,  404,  404,  404),
    "documents:download [household]":          (L,    200,  200,  404,  404,  404,  404),
    "documents:download [previous tenant]":    (L,    404,  404,  404,  404,  404,  404),
    "forms:list":                              (200,  200,  200,  200,  200,  200,  200),
    "forms:download":                          (200,  200,  200,  200,  200,  200,  200),
    "backoffice:documents":                    (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_new":                 (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_batch_new":           (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_batch":               (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_batch_file":          (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_batch_publish":       (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_batch_discard":       (L,    404,  404,  404,  404,  200,  200),
    # A checked batch is not withdrawn: back to it with the reason.
    "backoffice:document_batch_withdraw":      (L,    404,  404,  404,  404,  302,  302),
    "backoffice:document_batch_withdraw [published]": (L, 404, 404, 404, 404, 200,  200),
    "backoffice:document":                     (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_file":                (L,    404,  404,  404,  404,  200,  200),
    "backoffice:document_withdraw":            (L,    404,  404,  404,  404,  200,  200),
    # Incidents (issue 14, points 3 and 4): a proposal of Technik's (hanna's
    # team, tom leads it) and an open one of Technik's; one of
    # Rechnungswesen's (neither hanna's nor tom's). Handlers read their
    # teams' incidents; the team's lead and admins act and create them. A
    # step the status does not allow (resolving a proposal) sends back to
    # the incident with the reason.
    "backoffice:incidents":                    (L,    404,  404,  404,  200,  200,  200),
    "backoffice:incident_new":                 (L,    404,  404,  404,  404,  200,  200),
    "backoffice:incident":                     (L,    404,  404,  404,  200,  200,  200),
    "backoffice:incident [other team]":        (L,    404,  404,  404,  404,  404,  200),
    "backoffice:incident_accept":              (L,    404,  404,  404,  404,  200,  200),
    "backoffice:incident_accept [other team]": (L,    404,  404,  404,  404,  404,  200),
    "backoffice:incident_dismiss":             (L,    404,  404,  404,  404,  200,  200),
    "backoffice:incident_resolve":             (L,    404,  404,  404,  404,  302,  302),
    "backoffice:incident_resolve [open]":      (L,    404,  404,  404,  404,  200,  200),
    "backoffice:incident_notice":              (L,    404,  404,  404,  404,  302,  302),
    "backoffice:incident_notice [open]":       (L,    404,  404,  404,  404,  200,  200),
    # The JSON API (/api/v1/): the member pages' rules as JSON. Without a
    # login 401 (a client gets no login page); staff 404, as on the pages.
    "api:topics":                              (401,  200,  200,  200,  404,  404,  404),
    "api:slots":                               (401,  200,  200,  200,  404,  404,  404),
    "api:appointments":                        (401,  200,  200,  200,  404,  404,  404),
    # The same address as the list: GET lists, POST books.
    "api:appointment_book":                    (401,  200,  200,  200,  404,  404,  404),
    # Alice's booking is hers alone, not her household's.
    "api:appointment":                         (401,  200,  404,  404,  404,  404,  404),
    # POST only: the method is refused before anyone or anything is looked up.
    "api:appointment_cancel":                  (405,  405,  405,  405,  405,  405,  405),
    # The OpenAPI document describes the endpoints, nobody's data: public.
    "api:openapi-json":                        (200,  200,  200,  200,  200,  200,  200),
    # Ninja's root address only names where the API lives.
    "api:api-root":                            (404,  404,  404,  404,  404,  404,  404),
    # The overview (issue 14): team leads and admins only.
    "backoffice:insights":                     (L,    404,  404,  404,  404,  200,  200),
    "backoffice:insights_export":              (L,    404,  404,  404,  404,  200,  200),
    "backoffice:inbox":                        (L,    404,  404,  404,  200,  200,  200),
    "backoffice:phone_start":                  (L,    404,  404,  404,  200,  200,  200),
    # The as-you-type member search answers htmx only; opened as a link it
    # sends staff to the search page with the same query.
    "backoffice:phone_members":                (L,    404,  404,  404,  302,  302,  302),
    # Any staff member logs a call for any member (alice's number here).
    "backoffice:phone_form":                   (L,    404,  404,  404,  200,  200,  200),
    # … and for someone who is not a member (no member number).
    "backoffice:phone_form [not a member]":    (L,    404,  404,  404,  200,  200,  200),
    # The bank details: Rechnungswesen's, so only ada's; the repair: Technik's.
    "backoffice:ticket":                       (L,    404,  404,  404,  404,  404,  200),
    "backoffice:ticket [own team]":            (L,    404,  404,  404,  200,  200,  200),
    "backoffice:ticket_retype":                (L,    404,  404,  404,  404,  404,  200),
    # Showing the full IBAN is a POST with a reason (recorded): never a link.
    "backoffice:ticket_iban":                  (L,    404,  404,  404,  405,  405,  405),
    "backoffice:attachment":                   (L,    404,  404,  404,  404,  404,  200),
    "backoffice:attachment [own team]":        (L,    404,  404,  404,  200,  200,  200),
    # The e-mail intake: messages that made no request, for all staff (as
    # triage); a request's e-mail only for who may see the request.
    "backoffice:mail":                         (L,    404,  404,  404,  200,  200,  200),
    "backoffice:mail_detail":                  (L,    404,  404,  404,  404,  404,  200),
    "backoffice:mail_detail [own team]":       (L,    404,  404,  404,  200,  200,  200),
    "backoffice:mail_detail [unfiled]":        (L,    404,  404,  404,  200,  200,  200),
    "backoffice:mail_original":                (L,    404,  404,  404,  404,  404,  200),
    "backoffice:mail_original [own team]":     (L,    404,  404,  404,  200,  200,  200),
    # Appointments in the back office (issue 13). The week, blocking time and
    # the calendar subscription: every staff member (one who offers no
    # consultations is told so; hanna and tom are advisors, ada is not).
    "backoffice:appointments":                 (L,    404,  404,  404,  200,  200,  200),
    "backoffice:appointment_block":            (L,    404,  404,  404,  200,  200,  200),
    "backoffice:appointment_feed":             (L,    404,  404,  404,  200,  200,  200),
    # Any staff member books for a caller (alice here); the confirmation
    # without a chosen time sends back to the free times.
    "backoffice:appointment_book":             (L,    404,  404,  404,  200,  200,  200),
    "backoffice:appointment_book_slots":       (L,    404,  404,  404,  200,  200,  200),
    "backoffice:appointment_book_confirm":     (L,    404,  404,  404,  302,  302,  302),
    # Alice's appointment with tom, which hanna booked at the phone: the
    # page after booking is hers too; the appointment is tom's (and a lead's
    # or admin's), not hers.
    "backoffice:appointment_booked":           (L,    404,  404,  404,  200,  200,  200),
    "backoffice:appointment":                  (L,    404,  404,  404,  404,  200,  200),
    "backoffice:appointment_cancel":           (L,    404,  404,  404,  404,  200,  200),
    # Alice's home visit with hanna: hers, and tom's as team lead.
    "backoffice:appointment [own]":            (L,    404,  404,  404,  200,  200,  200),
    "backoffice:appointment_cancel [own]":     (L,    404,  404,  404,  200,  200,  200),
    # Tom's calendar feed: the secret address is the key, for anyone holding
    # it (a calendar program has no login); the address before he renewed
    # it is dead.
    "appointments:feed":                       (200,  200,  200,  200,  200,  200,  200),
    "appointments:feed [renewed]":             (404,  404,  404,  404,  404,  404,  404),
    # The administration. Everyone who is not staff is sent to the login.
    "verwaltung/login/":                       (L,    L,    L,    L,    L,    L,    L),
    "admin:index":                             (L,    L,    L,    L,    200,  200,  200),
    # Shadowed by "verwaltung/login/" (the admin's own form has no rate limits).
    "admin:login":                             (L,    L,    L,    L,    L,    L,    L),
    # Django's admin sends whoever may not use it from "log out" to its index
    # (which sends them to the login); logging out is POST only.
    "admin:logout":                            (302,  302,  302,  302,  405,  405,  405),
    "admin:password_change":                   (L,    L,    L,    L,    200,  200,  200),
    "admin:password_change_done":              (L,    L,    L,    L,    200,  200,  200),
    # A search of accounts (an estate's property manager): needs the right to
    # read accounts, which handlers do not have.
    "admin:autocomplete":                      (L,    L,    L,    L,    403,  200,  200),
    "admin:jsi18n":                            (L,    L,    L,    L,    200,  200,  200),
    # No model has a page outside the admin, so "view on site" leads nowhere.
    "admin:view_on_site":                      (L,    L,    L,    L,    404,  404,  404),
    # The access log's app page.
    "admin:app_list":                          (L,    L,    L,    L,    404,  404,  200),
    # Alice's password: only whoever may change accounts.
    "admin:auth_user_password_change":         (L,    L,    L,    L,    403,  403,  200),
    "admin:routing_routingrule_preview":       (L,    L,    L,    L,    403,  200,  200),
    # Tom's authenticator app as QR code and secret: whoever reads it has his
    # second step. Nobody but a superuser.
    "admin:otp_totp_totpdevice_config":        (L,    L,    L,    L,    403,  403,  403),
    "admin:otp_totp_totpdevice_qrcode":        (L,    L,    L,    L,    403,  403,  403),
    # Any other address under /verwaltung/: no hint to strangers what exists.
    "verwaltung/(?P<url>.*)$":                 (L,    L,    L,    L,    404,  404,  404),
}

# The admin's generated pages of each registered model: the list, "add", and
# one row's history, delete and change pages and its bare address (which
# redirects to the change page). The row is the `world` fixture's
# `admin_rows` entry. Nobody but staff gets further than the login.
ADMIN_VIEWS = ("changelist", "add", "history", "delete", "change", "object")
ADMIN = {
    # The Administration role: admins read roles, nobody edits them here.
    "auth.Group": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # The task queue (e-mail ids and errors): superusers only.
    "django_tasks_database.DBTaskResult": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  403),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  403),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  403),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Who saw alice's data: admins read it; nobody writes it.
    "audit.AccessLog": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Alice's account: team leads read accounts, admins manage them.
    "accounts.User": {
        "changelist":                          (L,    L,    L,    L,    403,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # The newcomer's letter code: made only by the letter action, never deleted.
    "accounts.ActivationCode": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # One cooperative per installation: no second one is added.
    "cooperative.Cooperative": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Master data (alice's estate, building, flat, membership, contract):
    # every staff member reads it (a request needs it), admins change it.
    "cooperative.Estate": {
        "changelist":                          (L,    L,    L,    L,    200,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    200,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    200,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "cooperative.Building": {
        "changelist":                          (L,    L,    L,    L,    200,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    200,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    200,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "cooperative.Unit": {
        "changelist":                          (L,    L,    L,    L,    200,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    200,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    200,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "members.Member": {
        "changelist":                          (L,    L,    L,    L,    200,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    200,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    200,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "members.Contract": {
        "changelist":                          (L,    L,    L,    L,    200,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    200,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    200,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # The outbox (bodies hold one-time links): admins read it and send again.
    "mail.OutboundEmail": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # The bank details form: handlers read forms, admins build them.
    "tickets.RequestType": {
        "changelist":                          (L,    L,    L,    L,    200,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    200,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    200,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Alice's bank details: no ticket admin for handlers or leads; admins
    # read (never add or delete) requests here.
    "tickets.Ticket": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    404,  404,  200),
        "delete":                              (L,    L,    L,    L,    404,  404,  403),
        "change":                              (L,    L,    L,    L,    404,  404,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # A text block of Rechnungswesen: a lead writes those of the teams they
    # lead (tom leads Technik), admins all of them.
    "tickets.CannedResponse": {
        "changelist":                          (L,    L,    L,    L,    403,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  200,  200),
        "history":                             (L,    L,    L,    L,    404,  404,  200),
        "delete":                              (L,    L,    L,    L,    404,  404,  200),
        "change":                              (L,    L,    L,    L,    404,  404,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Rechnungswesen: teams are the admins' business.
    "routing.Team": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # SLA policies and routing rules: leads read them, admins write them.
    "routing.SlaPolicy": {
        "changelist":                          (L,    L,    L,    L,    403,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "routing.RoutingRule": {
        "changelist":                          (L,    L,    L,    L,    403,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  200,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Tom's authenticator app and his recovery codes: superusers only.
    "otp_totp.TOTPDevice": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  403),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  403),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  403),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "otp_static.StaticDevice": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  403),
        "add":                                 (L,    L,    L,    L,    403,  403,  403),
        "history":                             (L,    L,    L,    L,    403,  403,  403),
        "delete":                              (L,    L,    L,    L,    403,  403,  403),
        "change":                              (L,    L,    L,    L,    403,  403,  403),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Jonas's holiday (he works in Technik): not hanna's to record, but tom's
    # (he leads Technik) and ada's. Everyone on the staff records their own.
    "routing.Absence": {
        "changelist":                          (L,    L,    L,    L,    200,  200,  200),
        "add":                                 (L,    L,    L,    L,    200,  200,  200),
        "history":                             (L,    L,    L,    L,    404,  200,  200),
        "delete":                              (L,    L,    L,    L,    404,  200,  200),
        "change":                              (L,    L,    L,    L,    404,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # Jonas on call for Technik: tom plans the rota of the team he leads,
    # ada every team's; handlers do not plan it (outside: not found).
    # Who offers consultations on what, and when: the admins' business.
    "appointments.AppointmentType": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "appointments.Advisor": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # The guest apartments and common rooms, their prices and rules: the
    # admins' business (staff confirm bookings in the back office).
    "rooms.Room": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    # The blank forms to download: the admins' business, like request forms.
    "documents.Form": {
        "changelist":                          (L,    L,    L,    L,    403,  403,  200),
        "add":                                 (L,    L,    L,    L,    403,  403,  200),
        "history":                             (L,    L,    L,    L,    403,  403,  200),
        "delete":                              (L,    L,    L,    L,    403,  403,  200),
        "change":                              (L,    L,    L,    L,    403,  403,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
    "routing.OnCallShift": {
        "changelist":                          (L,    L,    L,    L,    403,  200,  200),
        "add":                                 (L,    L,    L,    L,    403,  200,  200),
        "history":                             (L,    L,    L,    L,    404,  200,  200),
        "delete":                              (L,    L,    L,    L,    404,  200,  200),
        "change":                              (L,    L,    L,    L,    404,  200,  200),
        "object":                              (L,    L,    L,    L,    302,  302,  302),
    },
}

# A session that has the password but still owes the code (an admin or team
# lead) opens these pages only: ada has no app yet, tom has one. Every other
# route sends ada to adding an app and tom to the code page.
SECOND_STEP_OPEN = {
    #                                          ada    tom
    "accounts:login_code":                     (SETUP, 200),
    "accounts:two_factor_setup":               (200,   CODE),
    "accounts:logout":                         (405,   405),
    "accounts:session_status":                 (204,   204),
    "portal:language_set":                     (405,   405),
    "portal:imprint":                          (200,   200),
    "portal:privacy":                          (200,   200),
    "portal:accessibility":                    (200,   200),
}
# fmt: on


# The routes -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern as the resolver holds it."""

    pattern: str  # the whole pattern, the prefixes of its includes too
    name: str | None  # "namespace:name", None for an unnamed pattern
    callback: object

    @property
    def key(self) -> str:
        return self.name or self.pattern

    @property
    def admin_model(self):
        """The model whose admin made this pattern (ModelAdmin.get_urls marks
        its views), else None."""
        model_admin = getattr(self.callback, "model_admin", None)
        return model_admin.model if model_admin is not None else None

    @property
    def admin_view(self) -> str | None:
        """Which of ADMIN_VIEWS this generated admin page is, else None (a
        page of its own, with a row in ROUTES)."""
        model = self.admin_model
        if model is None:
            return None
        if self.name is None:
            return "object"
        view = self.name.removeprefix(f"admin:{model._meta.app_label}_{model._meta.model_name}_")
        return view if view in ADMIN_VIEWS else None


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(prefix + str(entry.pattern), name, entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def expected_for(key: str, route: Route) -> dict | None:
    """The table's row for this request, by role; None without one."""
    if route.admin_view is not None and key == route.key:
        row = ADMIN.get(route.admin_model._meta.label, {}).get(route.admin_view)
    else:
        row = ROUTES.get(key)
    return dict(zip(ROLES, row, strict=True)) if row is not None else None


def _base(key: str) -> str:
    return key.split(" [", 1)[0]


# The world: other people's real rows ------------------------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    paths: dict[str, str]  # key (ROUTES' keys, "name [case]" included) → address


def _link_token(email: str, route: str) -> str:
    """The token in the link of the last e-mail to this address."""
    body = OutboundEmail.objects.filter(to=email).latest("pk").body
    prefix = reverse(route, args=["TOKEN"]).removesuffix("TOKEN/")
    return re.search(re.escape(prefix) + r"([^/\s]+)/", body).group(1)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _address(route: Route, args: dict) -> str | None:
    """The route's address with these arguments; None when they do not fit
    (the test then names the route)."""
    try:
        if route.name is not None:
            return reverse(route.name, kwargs=args)
        if "(?P<" not in route.pattern:
            return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(args[m.group(1)]), route.pattern)
    except (NoReverseMatch, KeyError):
        pass
    return None


@pytest.fixture
def world(cast, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_ROOT = tmp_path / "private"
    alice = cast.alice
    repair = ticket_create()
    assert repair.team.has_member(cast.hanna) and repair.team.lead == cast.tom
    ticket_member_reply(ticket=repair, user=alice, body="Foto", files=[file_clean(photo())])
    bank = ticket_create(
        request_type=RequestType.objects.get(slug="bankverbindung"),
        answers={
            "account_holder": "Alice Ahrens",
            "iban": "DE02 1203 0000 0000 2020 51",
            "valid_from": "2027-01-01",
            "sepa_consent": "yes",
        },
    )
    assert bank.team.name == "Rechnungswesen" and not bank.team.has_member(cast.hanna)
    assert bank.team.lead != cast.tom and not bank.team.has_member(cast.tom)
    scan = CleanFile(b"%PDF-1.4\n%%EOF\n", "application/pdf", "vollmacht.pdf")
    ticket_member_reply(ticket=bank, user=alice, body="Vollmacht", files=[scan])
    draft = draft_save(
        user=alice,
        request_type=repair.request_type,
        answers=dict(repair.answers),
        files=[file_clean(photo("entwurf.jpg"))],
    )
    # Frieda lived in dave's flat until he moved in and reported a damage
    # there; dave must not read it.
    dave_contract = Contract.objects.current().get(members=cast.dave.member)
    frieda = Member.objects.create(
        member_number="20900",
        first_name="Frieda",
        last_name="Früher",
        joined_on=datetime.date(2005, 1, 1),
    )
    frieda_contract = Contract.objects.create(
        number="NV-0201900-alt",
        unit=dave_contract.unit,
        start=datetime.date(2005, 1, 1),
        end=dave_contract.start - datetime.timedelta(days=1),
        monthly_fee=dave_contract.monthly_fee,
    )
    frieda_contract.members.add(frieda)
    before = timezone.make_aware(datetime.datetime.combine(dave_contract.start, datetime.time()))
    earlier = ticket_create(
        member=frieda,
        channel=Channel.PHONE,
        unit=dave_contract.unit,
        created_at=before - datetime.timedelta(days=90),
    )
    # A member of another estate activating her account: her letter's code
    # and the confirmation link in her mailbox.
    newcomer = Member.objects.filter(user__isnull=True).order_by("member_number").first()
    activation_codes_create(members=[newcomer], created_by=cast.ada)
    code = ActivationCode.objects.get(member=newcomer)
    account_activate(
        code_id=code.pk, email="neu@example.org", password="ein-langes-passwort", language="de"
    )
    # Alice changes her address: the link went to the new one.
    email_change_request(user=alice, new_email="alice.neu@example.org")
    # Jonas works in Technik (tom leads it) and is on holiday.
    jonas = staff_ensure("jonas@example.org", "Jonas", "Jäger", roles.HANDLER)
    Team.objects.get(name="Technik").members.add(jonas)
    today = timezone.localdate()
    absence = Absence.objects.create(user=jonas, kind="vacation", starts=today, ends=today)
    now = timezone.now()
    shift = OnCallShift.objects.create(
        team=Team.objects.get(name="Technik"),
        user=jonas,
        starts=now,
        ends=now + datetime.timedelta(days=2),
    )
    accounting = Team.objects.get(name="Rechnungswesen")
    policy = SlaPolicy.objects.create(name="Matrix", first_response_hours=8, resolution_days=5)
    rule = RoutingRule.objects.create(name="Matrix", team=accounting, sla_policy=policy)
    block = CannedResponse.objects.create(title="Matrix", body_de="Hallo", team=accounting)
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="mail.tasks.email_deliver",
        backend_name="default",
        queue_name="default",
        run_after=get_date_max(),
    )
    log = AccessLog.objects.create(
        actor=cast.hanna, action="view", member=alice.member, subject="Matrix", path="/"
    )
    # Tom's authenticator app and recovery codes.
    tom_app = otp_device(cast.tom)
    recovery_codes_renew(user=cast.tom)
    cooperative = Cooperative.objects.get()
    cooperative.logo.save("logo.png", ContentFile(_png()))
    contract = Contract.objects.current().get(members=alice.member)

    # Alice's consultation about letting, the first free time with Tom.
    advisors = appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    letting = AppointmentType.objects.get(slug="vermietung")
    today = timezone.localdate()
    first_free = slots_free(
        appointment_type=letting,
        advisors=[advisors["tom"]],
        first_day=today,
        last_day=today + datetime.timedelta(days=28),
    )[0]
    booking = appointment_book(
        member=alice.member,
        appointment_type=letting,
        starts_at=first_free.starts,
        booked_by=alice,
        advisor=advisors["tom"],
    )
    admin_rows = {
        "auth.Group": Group.objects.get(name=roles.ADMIN).pk,
        "django_tasks_database.DBTaskResult": task.pk,
        "audit.AccessLog": log.pk,
        "accounts.User": alice.pk,
        "accounts.ActivationCode": code.pk,
        "cooperative.Cooperative": cooperative.pk,
        "cooperative.Estate": contract.unit.building.estate_id,
        "cooperative.Building": contract.unit.building_id,
        "cooperative.Unit": contract.unit_id,
        "members.Member": alice.member.pk,
        "members.Contract": contract.pk,
        "mail.OutboundEmail": OutboundEmail.objects.order_by("pk").first().pk,
        "tickets.RequestType": bank.request_type_id,
        "tickets.Ticket": bank.pk,
        "tickets.CannedResponse": block.pk,
        "routing.Team": accounting.pk,
        "routing.SlaPolicy": policy.pk,
        "routing.RoutingRule": rule.pk,
        "routing.Absence": absence.pk,
        "routing.OnCallShift": shift.pk,
        "otp_totp.TOTPDevice": tom_app.pk,
        "otp_static.StaticDevice": StaticDevice.objects.get(user=cast.tom).pk,
        "appointments.AppointmentType": letting.pk,
        "appointments.Advisor": advisors["tom"].pk,
        "rooms.Room": rooms_demo_ensure(cast)["flat"].pk,
        "documents.Form": forms_demo_ensure()[0].pk,
    }

    mails = {
        name: InboundEmail.objects.create(
            mailbox="service",
            content_hash=name * 8,
            raw=f"From: a@example.org\r\nSubject: {name}\r\n\r\nText\r\n".encode(),
            size=50,
            sender="a@example.org",
            status=status,
            ticket_reference=reference,
        ).pk
        for name, status, reference in [
            ("bank", InboundEmail.Status.REPLY, bank.reference),
            ("repair", InboundEmail.Status.TICKET, repair.reference),
            ("unfiled", InboundEmail.Status.QUARANTINE, ""),
        ]
    }
    slug = repair.request_type.slug
    photo_id = Attachment.objects.get(ticket=repair).pk
    scan_id = Attachment.objects.get(ticket=bank).pk
    draft_photo_id = draft.attachments.get().pk
    arguments = {
        "accounts:activation_confirm": {
            "token": _link_token("neu@example.org", "accounts:activation_confirm")
        },
        "accounts:password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(alice.pk)),
            "token": default_token_generator.make_token(alice),
        },
        "accounts:email_change_confirm": {
            "token": _link_token("alice.neu@example.org", "accounts:email_change_confirm")
        },
        "tickets:form": {"slug": slug},
        "tickets:review": {"slug": slug},
        "tickets:draft_attachment": {"slug": slug, "attachment_id": draft_photo_id},
        "tickets:draft_attachment_remove": {"slug": slug, "attachment_id": draft_photo_id},
        "tickets:detail": {"reference": repair.reference},
        "tickets:detail [personal request]": {"reference": bank.reference},
        "tickets:detail [previous tenant]": {"reference": earlier.reference},
        "tickets:reopen": {"reference": repair.reference},
        "tickets:rate": {"reference": repair.reference},
        "tickets:withdraw": {"reference": repair.reference},
        "tickets:share": {"reference": bank.reference},
        "tickets:attachment": {"reference": repair.reference, "attachment_id": photo_id},
        "tickets:attachment [personal request]": {
            "reference": bank.reference,
            "attachment_id": scan_id,
        },
        "backoffice:phone_form": {
            "member_number": alice.member.member_number,
            "slug": slug,
            "channel": Channel.PHONE,
        },
        "backoffice:phone_form [not a member]": {
            "member_number": "kein-mitglied",
            "slug": slug,
            "channel": Channel.COUNTER,
        },
        "backoffice:ticket": {"reference": bank.reference},
        "backoffice:ticket [own team]": {"reference": repair.reference},
        "backoffice:ticket_retype": {"reference": bank.reference},
        "backoffice:ticket_iban": {"reference": bank.reference},
        "backoffice:attachment": {"reference": bank.reference, "attachment_id": scan_id},
        "backoffice:attachment [own team]": {
            "reference": repair.reference,
            "attachment_id": photo_id,
        },
        "appointments:slots": {"slug": letting.slug},
        "appointments:confirm": {"slug": letting.slug},
        "appointments:detail": {"public_id": booking.appointment.public_id},
        "appointments:cancel": {"public_id": booking.appointment.public_id},
        "appointments:move": {"public_id": booking.appointment.public_id},
        "appointments:ics": {"public_id": booking.appointment.public_id},
        "appointments:link": {"token": booking.link_token},
        "appointments:link [not valid]": {"token": booking.link_token[:-4] + "abcd"},
        "appointments:link_move": {"token": booking.link_token},
        "appointments:link_move [not valid]": {"token": "x" * 43},
        "api:slots": {"slug": letting.slug},
        "api:appointment": {"public_id": booking.appointment.public_id},
        "api:appointment_cancel": {"public_id": booking.appointment.public_id},
        "backoffice:mail_detail": {"email_id": mails["bank"]},
        "backoffice:mail_detail [own team]": {"email_id": mails["repair"]},
        "backoffice:mail_detail [unfiled]": {"email_id": mails["unfiled"]},
        "backoffice:mail_original": {"email_id": mails["bank"]},
        "backoffice:mail_original [own team]": {"email_id": mails["repair"]},
        "admin:view_on_site": {
            "content_type_id": ContentType.objects.get_for_model(bank).pk,
            "object_id": bank.pk,
        },
        "admin:app_list": {"app_label": "audit"},
        "admin:auth_user_password_change": {"id": alice.pk},
        "admin:otp_totp_totpdevice_config": {"pk": tom_app.pk},
        "admin:otp_totp_totpdevice_qrcode": {"pk": tom_app.pk},
    }
    # Appointments, staff side (issue 13): alice with tom, booked by hanna at
    # the phone; alice's home visit with hanna; tom's calendar feed.
    advisors = appointments_demo_ensure(hanna=cast.hanna, tom=cast.tom)
    appointments = {}
    for key, slug, booked_by in [
        ("tom", "vermietung", cast.hanna),
        ("hanna", "technik-vor-ort", alice),
    ]:
        topic = AppointmentType.objects.get(slug=slug)
        today = timezone.localdate()
        slot = slots_free(
            appointment_type=topic,
            advisors=[advisors[key]],
            first_day=today,
            last_day=today + datetime.timedelta(days=28),
        )[0]
        appointments[key] = appointment_book(
            member=alice.member,
            appointment_type=topic,
            starts_at=slot.starts,
            booked_by=booked_by,
            advisor=advisors[key],
        ).appointment
    renewed = advisor_feed_renew(advisor=advisors["tom"])
    feed_token = advisor_feed_renew(advisor=advisors["tom"])
    number = alice.member.member_number
    arguments.update(
        {
            "backoffice:appointment_book": {"member_number": number},
            "backoffice:appointment_book_slots": {"member_number": number, "slug": "vermietung"},
            "backoffice:appointment_book_confirm": {"member_number": number, "slug": "vermietung"},
            "backoffice:appointment_booked": {"public_id": appointments["tom"].public_id},
            "backoffice:appointment": {"public_id": appointments["tom"].public_id},
            "backoffice:appointment_cancel": {"public_id": appointments["tom"].public_id},
            "backoffice:appointment [own]": {"public_id": appointments["hanna"].public_id},
            "backoffice:appointment_cancel [own]": {"public_id": appointments["hanna"].public_id},
            "appointments:feed": {"token": feed_token},
            "appointments:feed [renewed]": {"token": renewed},
        }
    )

    # Certificates (issue 15): alice's membership certificate, with a code
    # known here (the PDF's own is not).
    certificate = certificate_request(
        request_type=RequestType.objects.get(slug="mitgliedsbescheinigung"),
        member=alice.member,
        answers={},
        channel=Channel.PORTAL,
        created_by=alice,
    )
    code = code_new()
    Certificate.objects.filter(pk=certificate.pk).update(code_hash=code_hash(code))
    arguments.update(
        {
            "certificates:request": {"slug": "mitgliedsbescheinigung"},
            "certificates:issue": {"slug": "mitgliedsbescheinigung"},
            "certificates:detail": {"certificate_id": certificate.pk},
            "certificates:download": {"certificate_id": certificate.pk},
            "certificates:verify_code": {"code": code_grouped(code)},
            "certificates:verify_code [not valid]": {"code": code_grouped(code_new())},
        }
    )

    # Rooms (issue 13): alice asks for the common room (awaiting
    # confirmation); a room of hanna's team with one of alice's bookings.
    rooms = rooms_demo_ensure(cast)
    saturday = timezone.localdate() + datetime.timedelta(days=30)
    alice_hall = room_book(
        room=rooms["hall"],
        member=alice.member,
        span=room_span(
            room=rooms["hall"], day=saturday, start=datetime.time(10), end=datetime.time(12)
        ),
        booked_by=alice,
    )
    workshop = Room.objects.create(
        slug="werkstatt",
        kind=RoomKind.COMMON_ROOM,
        name_de="Werkstatt",
        name_en="Workshop",
        team=Team.objects.get(members=cast.hanna, name="Technik"),
        needs_confirmation=True,
        min_notice_hours=0,
    )
    alice_workshop = room_book(
        room=workshop,
        member=alice.member,
        span=room_span(room=workshop, day=saturday, start=datetime.time(10), end=datetime.time(12)),
        booked_by=alice,
    )
    arguments.update(
        {
            "rooms:room": {"slug": rooms["flat"].slug},
            "rooms:room [residents only]": {"slug": rooms["hall"].slug},
            "rooms:confirm": {"slug": rooms["flat"].slug},
            "rooms:booking": {"public_id": alice_hall.public_id},
            "rooms:cancel": {"public_id": alice_hall.public_id},
            "backoffice:room_booking": {"public_id": alice_hall.public_id},
            "backoffice:room_booking_decline": {"public_id": alice_hall.public_id},
            "backoffice:room_booking_cancel": {"public_id": alice_hall.public_id},
            "backoffice:insights_export": {"name": "rueckstand-team"},
            "backoffice:room_book": {"member_number": alice.member.member_number},
            "backoffice:room_book_room": {
                "member_number": alice.member.member_number,
                "slug": rooms["hall"].slug,
            },
            "backoffice:room_book_confirm": {
                "member_number": alice.member.member_number,
                "slug": rooms["hall"].slug,
            },
            "backoffice:room_booked": {"public_id": alice_workshop.public_id},
            "backoffice:room_booking [own team]": {"public_id": alice_workshop.public_id},
            "backoffice:room_booking_decline [own team]": {"public_id": alice_workshop.public_id},
        }
    )

    # Notices (issue 14): a draft and a published one for alice's building
    # (hanna's estate), the same for dave's (tom's).
    def notice(member, *, published: bool):
        building = Contract.objects.current().get(members=member).unit.building
        content = NoticeContent(
            kind=NoticeKind.WATER,
            title_de="Wasser wird abgestellt",
            text_de="Am Dienstag von 8 bis 12 Uhr.",
            buildings=[building],
            valid_from=timezone.now(),
            valid_until=timezone.now() + datetime.timedelta(days=2),
        )
        if published:
            return notice_publish(actor=cast.tom, content=content)
        return notice_draft_save(actor=cast.hanna, content=content)

    draft, out = notice(alice.member, published=False), notice(alice.member, published=True)
    draft_south = notice(cast.dave.member, published=False)
    out_south = notice(cast.dave.member, published=True)
    arguments.update(
        {
            "backoffice:notice": {"public_id": draft.public_id},
            "backoffice:notice_edit": {"public_id": draft.public_id},
            "backoffice:notice_edit [published]": {"public_id": out.public_id},
            "backoffice:notice_publish": {"public_id": draft.public_id},
            "backoffice:notice_publish [other estate]": {"public_id": draft_south.public_id},
            "backoffice:notice_withdraw": {"public_id": out.public_id},
            "backoffice:notice_withdraw [other estate]": {"public_id": out_south.public_id},
        }
    )

    def incident(ticket, status):
        made = Incident.objects.create(
            title="Heizung", estate=ticket.unit.building.estate, team=ticket.team, status=status
        )
        made.buildings.set([ticket.unit.building])
        IncidentTicket.objects.create(
            incident=made, ticket=ticket, how=IncidentTicket.How.DETECTED, linked_at=timezone.now()
        )
        return made

    proposed = incident(repair, IncidentStatus.PROPOSED)
    opened = incident(ticket_create(team=repair.team), IncidentStatus.OPEN)
    opened.public_text = "Die Heizung wird repariert."
    opened.save()
    other_team = incident(bank, IncidentStatus.PROPOSED)
    arguments.update(
        {
            "backoffice:incident": {"public_id": proposed.public_id},
            "backoffice:incident [other team]": {"public_id": other_team.public_id},
            "backoffice:incident_accept": {"public_id": proposed.public_id},
            "backoffice:incident_accept [other team]": {"public_id": other_team.public_id},
            "backoffice:incident_dismiss": {"public_id": proposed.public_id},
            "backoffice:incident_resolve": {"public_id": proposed.public_id},
            "backoffice:incident_resolve [open]": {"public_id": opened.public_id},
            "backoffice:incident_notice": {"public_id": proposed.public_id},
            "backoffice:incident_notice [open]": {"public_id": opened.public_id},
        }
    )

    # Alice's copy of her data, prepared by the worker.
    export = data_export_request(user=alice)
    assert data_export_prepare(export_id=export.pk) == "ready"
    arguments["privacy:download"] = {"public_id": export.public_id}

    # Documents (issue 15).
    def pdf(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, pdf_simple(name), content_type="application/pdf")

    today = timezone.localdate()
    statement = About(
        DocumentKind.STATEMENT,
        "Betriebskostenabrechnung 2025",
        datetime.date(2025, 1, 1),
        datetime.date(2025, 12, 31),
    )
    invitation = document_publish(
        actor=cast.ada,
        upload=pdf("einladung.pdf"),
        addressee=alice.member,
        about=About(DocumentKind.INVITATION, "Einladung", today),
    )
    household = document_publish(
        actor=cast.ada, upload=pdf("abrechnung.pdf"), addressee=contract, about=statement
    )
    previous = document_publish(
        actor=cast.ada,
        upload=pdf("alt.pdf"),
        addressee=frieda_contract,
        about=About(DocumentKind.STATEMENT, "Abrechnung 2010", datetime.date(2010, 1, 1)),
    )
    checked = batch_check(
        actor=cast.ada,
        uploads=[pdf(f"{dave_contract.number}_2025.pdf")],
        numbers="contract",
        about=statement,
    )
    published = batch_check(
        actor=cast.ada,
        uploads=[pdf(f"{dave_contract.number}_brief.pdf")],
        numbers="contract",
        about=About(DocumentKind.LETTER, "Brief", today),
    )
    batch_publish(actor=cast.ada, batch=published)
    arguments.update(
        {
            "documents:download": {"public_id": invitation.public_id},
            "documents:download [household]": {"public_id": household.public_id},
            "documents:download [previous tenant]": {"public_id": previous.public_id},
            "forms:download": {"slug": "sepa-lastschriftmandat"},
            "backoffice:document_batch": {"public_id": checked.public_id},
            "backoffice:document_batch_file": {"public_id": checked.public_id, "position": 1},
            "backoffice:document_batch_publish": {"public_id": checked.public_id},
            "backoffice:document_batch_discard": {"public_id": checked.public_id},
            "backoffice:document_batch_withdraw": {"public_id": checked.public_id},
            "backoffice:document_batch_withdraw [published]": {"public_id": published.public_id},
            "backoffice:document": {"public_id": household.public_id},
            "backoffice:document_file": {"public_id": household.public_id},
            "backoffice:document_withdraw": {"public_id": household.public_id},
        }
    )

    paths = {}
    for route in all_routes():
        model = route.admin_model
        for key in [route.key] + [k for k in arguments if _base(k) == route.key != k]:
            if model is not None and "<path:object_id>" in route.pattern:
                row = admin_rows.get(model._meta.label)
                args = {"object_id": row} if row is not None else None
            else:
                args = arguments.get(key, {})
            path = _address(route, args) if args is not None else None
            if path is not None:
                paths[key] = path
    # Addresses a pattern does not give by itself.
    paths["verwaltung/(?P<url>.*)$"] = "/verwaltung/gibt-es-nicht/"
    paths["admin:autocomplete"] = reverse("admin:autocomplete") + (
        "?app_label=cooperative&model_name=estate&field_name=property_manager&term=a"
    )
    users = {"anon": None, **{role: getattr(cast, role) for role in ROLES[1:]}}
    return World(users=users, paths=paths)


# The tests ------------------------------------------------------------------------


def _is_login(location: str) -> bool:
    return urlsplit(location).path in (reverse("accounts:login"), "/verwaltung/login/")


def _outcome(response):
    if response.status_code in (301, 302):
        target = urlsplit(response["Location"]).path
        if _is_login(target):
            return L
        if target == reverse("accounts:login_code"):
            return CODE
        if target == reverse("accounts:two_factor_setup"):
            return SETUP
    return response.status_code


def _get(client, path: str):
    response = client.get(path)
    if response.streaming:
        b"".join(response.streaming_content)  # the client closes the file then
    return _outcome(response)


def wrong_cells(client, world: World, role: str, routes: list[Route]) -> list[str]:
    """Every request whose answer differs from the table, and every route
    the table has no row for, as lines naming them."""
    wrong, asked = [], set()
    for route in routes:
        keys = [route.key] + [k for k in ROUTES if _base(k) == route.key != k]
        for key in keys:
            asked.add(key)
            expected = expected_for(key, route)
            if expected is None:
                wrong.append(f"{key}: no entry in the table ({route.pattern})")
                continue
            path = world.paths.get(key)
            if path is None:
                wrong.append(f"{key}: no address: give its arguments or its row in `world`")
                continue
            got = _get(client, path)
            if got != expected[role]:
                wrong.append(f"{key} as {role}: got {got}, expected {expected[role]} ({path})")
    return wrong + [f"{key}: no such route" for key in sorted(set(ROUTES) - asked)]


@pytest.mark.parametrize("role", ROLES)
def test_it_answers_every_route_as_the_table_says(client, world, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
        if user.two_factor_required:
            otp_verify(client, user)  # the code from the app: a complete login
    wrong = wrong_cells(client, world, role, all_routes())
    assert not wrong, f"{len(wrong)} wrong cells for {role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("role", "column", "elsewhere"),
    [
        pytest.param("ada", 0, SETUP, id="ada-without-an-app"),
        pytest.param("tom", 1, CODE, id="tom-with-an-app"),
    ],
)
def test_it_opens_nothing_before_the_second_step(client, world, role, column, elsewhere):
    user = world.users[role]
    assert user.two_factor_required
    client.force_login(user)  # the password step only
    wrong = []
    for key, path in world.paths.items():
        expected = SECOND_STEP_OPEN[key][column] if key in SECOND_STEP_OPEN else elsewhere
        got = _get(client, path)
        if got != expected:
            wrong.append(f"{key} as {role} without the code: got {got}, expected {expected}")
    assert not wrong, f"{len(wrong)} wrong cells:\n" + "\n".join(wrong)


def test_it_names_a_route_nobody_decided_about(client, world):
    # As if someone added a page to the back office and not to the table.
    new_page = Route("bearbeitung/neu/", "backoffice:neu", callback=None)
    wrong = wrong_cells(client, world, "anon", [*all_routes(), new_page])
    assert "backoffice:neu: no entry in the table (bearbeitung/neu/)" in wrong


def test_it_has_no_entries_for_routes_that_are_gone():
    routes = all_routes()
    keys = {route.key for route in routes}
    stale = [key for key in [*ROUTES, *SECOND_STEP_OPEN] if _base(key) not in keys]
    admin_views: dict[str, set[str]] = {}
    for route in routes:
        if route.admin_view is not None:
            admin_views.setdefault(route.admin_model._meta.label, set()).add(route.admin_view)
    for label, views in ADMIN.items():
        gone = set(views) - admin_views.get(label, set())
        stale += [f"ADMIN[{label!r}][{view!r}]" for view in sorted(gone)]
    assert not stale, "entries without a route: " + ", ".join(stale)
    rows = [*ROUTES.values(), *(row for views in ADMIN.values() for row in views.values())]
    assert all(len(row) == len(ROLES) for row in rows)
