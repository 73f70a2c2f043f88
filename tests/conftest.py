"""The fixed cast shared by all tests, and the real browser.

alice (Wohnanlage Nord, 2. OG links) and bob share one contract; dave lives in
another estate (the outsider); hanna is a handler, tom a team lead, ada admin."""

import os
import shutil

import pytest
from django.conf import settings as django_settings
from django.core import mail

from demo.cast import DEMO_PASSWORD, Cast, build_demo

# The SQLite test database is a file in var/ (see settings); a fresh clone has no var/ yet.
django_settings.VAR_DIR.mkdir(parents=True, exist_ok=True)

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _default_language():
    # The test client leaves the last request's language active in the
    # thread; every test starts as a fresh process would: in German.
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    # Tasks run synchronously in tests (the database worker in production),
    # so a test sees every side effect of the request it made.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def cast(db) -> Cast:
    return build_demo(units_per_building=4)


@pytest.fixture
def repair(cast):
    """A repair report form of every field kind but IBAN, filed to team Technik."""
    from routing.models import Team
    from tickets.models import FieldKind, RequestField, RequestType

    team, _ = Team.objects.get_or_create(name="Technik")
    request_type, _ = RequestType.objects.get_or_create(
        slug="test-schaden",
        defaults={
            "name_de": "Schadensmeldung",
            "name_en": "Repair report",
            "category": "repair",
            "audience": RequestType.Audience.CONTRACT_HOLDERS,
            "default_team": team,
        },
    )
    fields = [
        ("room", FieldKind.ROOM, "Raum", "Room", True, ""),
        ("what", FieldKind.TEXTAREA, "Was ist kaputt?", "What is broken?", True, ""),
        ("since", FieldKind.DATE, "Seit wann?", "Since when?", False, ""),
        (
            "urgency",
            FieldKind.CHOICE,
            "Dringlichkeit",
            "Urgency",
            True,
            "normal|Normal|Normal\nnotfall|Notfall|Emergency",
        ),
        ("photos", FieldKind.FILE, "Fotos", "Photos", False, ""),
        ("master_key", FieldKind.YESNO, "Generalschlüssel?", "Master key?", True, ""),
    ]
    for position, (key, kind, de_label, en_label, required, choices) in enumerate(fields):
        RequestField.objects.update_or_create(
            request_type=request_type,
            key=key,
            defaults={
                "kind": kind,
                "label_de": de_label,
                "label_en": en_label,
                "required": required,
                "choices": choices,
                "position": position,
            },
        )
    return request_type


@pytest.fixture
def password() -> str:
    return DEMO_PASSWORD


@pytest.fixture
def outbox(transactional_db):
    """Sent mail. E-mails leave on commit, so tests that read them run in
    real transactions (no surrounding test transaction that never commits)."""
    mail.outbox.clear()
    return mail.outbox


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        message = f"{CHROMIUM} not found: install Debian's chromium package"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing browser is a failure)")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # calls from the same thread (fixtures, live server setup) are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
