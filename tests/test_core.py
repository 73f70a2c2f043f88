import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.models import User
from cooperative.models import Cooperative
from tests.helpers import de, otp_device, otp_verify

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_ok_with_a_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reports_503_when_the_database_is_unreachable():
    # A real unreachable PostgreSQL (nothing listens on port 1), in a fresh process.
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='127.0.0.1').get('/healthz');"
        "print(json.dumps({'code': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "GENOPORTAL_LOG_LEVEL": "CRITICAL",
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"code": 503, "body": {"status": "error", "database": "unreachable"}}


def test_healthz_refuses_wrong_methods(client):
    assert client.post("/healthz").status_code == 405


def test_the_start_page_shows_the_cooperative_and_both_ways_in(client, cast):
    body = client.get("/").content.decode()
    assert "Wohnungsgenossenschaft Beispiel eG" in body
    assert 'href="/anmelden/"' in body
    assert 'href="/aktivieren/"' in body
    assert 'class="skip-link"' in body
    assert "030 123456-99" in body  # emergency number in the footer


def test_the_start_page_refuses_wrong_methods(client):
    assert client.post("/").status_code == 405


def test_german_is_the_default_language(client, cast):
    response = client.get("/")
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in response.content.decode()


def test_the_language_switch_sets_a_cookie_for_visitors(client, cast):
    response = client.post("/sprache/", {"language": "en", "next": "/anmelden/"})
    assert response["Location"] == "/anmelden/"
    assert response.cookies["genoportal_language"].value == "en"
    assert client.get("/anmelden/")["Content-Language"] == "en"


def test_the_language_switch_is_remembered_for_a_member(client, cast):
    client.force_login(cast.alice)
    client.post("/sprache/", {"language": "en", "next": "/mein-bereich/"})
    assert User.objects.get(pk=cast.alice.pk).language == "en"
    assert (
        cast.alice.member.__class__.objects.get(pk=cast.alice.member_id).preferred_language == "en"
    )
    # A new device without the cookie still speaks English after login.
    client.logout()
    client.cookies.clear()
    client.force_login(User.objects.get(pk=cast.alice.pk))
    assert client.get("/mein-bereich/")["Content-Language"] == "en"


def test_the_language_switch_ignores_unknown_languages_and_foreign_redirects(client, cast):
    client.force_login(cast.alice)
    response = client.post("/sprache/", {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert User.objects.get(pk=cast.alice.pk).language == "de"


def test_the_language_switch_is_post_only(client):
    assert client.get("/sprache/").status_code == 405


def test_the_logo_is_404_until_one_is_uploaded(client, cast):
    assert client.get("/logo").status_code == 404


def test_the_logo_is_served_when_uploaded(client, cast, tmp_path, settings):
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, "PNG")
    coop = Cooperative.objects.current()
    coop.logo = SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")
    coop.save()
    response = client.get("/logo")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response) == buffer.getvalue()
    assert 'src="/logo"' in client.get("/").content.decode()


def test_unknown_pages_get_a_friendly_404(client, cast):
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    assert 'class="skip-link"' in response.content.decode()


def test_the_admin_login_goes_through_the_rate_limited_login(client, cast):
    response = client.get("/verwaltung/login/?next=/verwaltung/members/member/")
    assert response.status_code == 302
    assert response["Location"] == "/anmelden/?next=%2Fverwaltung%2Fmembers%2Fmember%2F"
    assert client.post("/verwaltung/login/", {"username": "ada@example.org"}).status_code == 405


def test_staff_reach_the_administration_after_logging_in(client, cast, password):
    otp_device(cast.ada)  # an admin logs in with the code from her app too
    response = client.post(
        "/anmelden/?next=/verwaltung/", {"email": "ada@example.org", "password": password}
    )
    response = otp_verify(client, cast.ada, url=response["Location"])
    assert response["Location"] == "/verwaltung/"
    assert client.get("/verwaltung/").status_code == 200


def test_a_stale_form_gets_a_plain_csrf_page(cast):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/anmelden/", {"email": "alice@example.org", "password": "x"})
    assert response.status_code == 403
    assert de("Please try again") in response.content.decode()
