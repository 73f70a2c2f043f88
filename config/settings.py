"""genoportal settings: one file, read from the environment.

Every variable is listed in `.env.example`. Defaults are safe for development
on the embedded SQLite database; production sets DJANGO_DEBUG=false and the
secrets, and nothing else differs between the two.
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.client_ip import trusted_networks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GENOPORTAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    # Development only: a fixed key so sessions survive restarts of `make demo`.
    SECRET_KEY = "dev-insecure-genoportal-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# The public address, used in links inside e-mails (activation, password reset).
SITE_URL = os.environ.get("GENOPORTAL_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # django.contrib.admin with a site that asks for the second login step.
    "accounts.admin_apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "portal",
    "mailroom",
    "demo",
    "accounts",
    "cooperative",
    "members",
    "mail",
    "audit",
    "routing",
    "tickets",
    "appointments",
    "rooms",
    "insights",
    "privacy",
    "notices",
    "documents",
    "incidents",
    "certificates",
    "backoffice",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.headers.SecurityHeadersMiddleware",
    # Facts read once per request (core.request_cache), gone with the request.
    "core.request_cache.RequestCacheMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Before anything reads the session or the database: a NUL gets a 400.
    "core.middleware.NulCharacterMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Staff idle timeout before django-otp looks at the session; the second
    # login step after it (accounts.two_factor).
    "core.middleware.StaffIdleMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondStepMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.cooperative",
                "portal.context_processors.unread_requests",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'genoportal.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: it pays for reports that run for seconds, not for
    # pages of a few milliseconds, where compiling took longer than the
    # query itself (50 ms on a search over 100,000 requests).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and a worker share the file: wait for locks instead of
    # failing at once, and use WAL so readers never block the writer
    # (synchronous=NORMAL is safe with WAL: a power cut may lose the last
    # commits, never the file). Connections are kept like PostgreSQL's
    # (DATABASE_CONN_MAX_AGE), so each keeps its page cache (16 MB) from
    # request to request instead of reading the file afresh; temporary
    # sorts stay in memory.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA cache_size=-16000; PRAGMA temp_store=MEMORY;"
        ),
    }
    # Tests use a file too, not shared-cache memory: locking then behaves as
    # in the real embedded deployment (busy timeout, WAL), threads included.
    # One file per test process, so parallel runs in one checkout never meet.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
# ModelBackend, loading with the user whether its login needs a code.
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day

# Activation letters: how long a printed code stays valid.
# The text classifier routes a free-text request as the type it recognised
# only when at least this sure; below, the request goes to triage with the
# suggestion shown (tickets.route).
ROUTING_MIN_CONFIDENCE = float(os.environ.get("GENOPORTAL_ROUTING_MIN_CONFIDENCE", "0.6"))
ACTIVATION_CODE_VALID_DAYS = int(os.environ.get("GENOPORTAL_ACTIVATION_CODE_VALID_DAYS", "90"))
# Links in confirmation e-mails (activation, e-mail change).
EMAIL_CONFIRMATION_MAX_AGE = 60 * 60 * 24 * 3

# Requests (Anliegen): attachments per file and per message.
TICKET_ATTACHMENT_MAX_BYTES = (
    int(os.environ.get("GENOPORTAL_ATTACHMENT_MAX_MB", "10")) * 1024 * 1024
)
TICKET_ATTACHMENT_MAX_COUNT = int(os.environ.get("GENOPORTAL_ATTACHMENT_MAX_COUNT", "10"))
# ZIP archives from outside (Office uploads; later bulk imports) are judged by
# their directory before anything is unpacked (core.archives.zip_check): a
# 10 MB Word or Excel file holds a few hundred parts and unpacks to well
# under 100 MB; Office XML packs typically 5–30:1, a zip bomb ~1000:1 (the ratio
# counts only for parts over 1 MB unpacked).
ARCHIVE_MAX_ENTRIES = 2000
ARCHIVE_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
ARCHIVE_MAX_RATIO = 200
# A request never sent: `manage.py drafts_expire` (a timer) deletes the draft
# and its files after this many days without a change.
DRAFT_EXPIRY_DAYS = int(os.environ.get("GENOPORTAL_DRAFT_EXPIRY_DAYS", "30"))
# Incidents (Störungen): `manage.py incidents_detect` (a timer) proposes one
# when at least INCIDENT_MIN_REPORTS open requests of one building within
# INCIDENT_WINDOW_HOURS say similar things (TF-IDF cosine at least
# INCIDENT_SIMILARITY) or are of one of the request types (slugs) in
# INCIDENT_FAULT_TYPES, forms that by themselves name a fault (e.g. a
# "heating failed" form); broad forms (repair report, general question)
# need similar words.
INCIDENT_MIN_REPORTS = int(os.environ.get("GENOPORTAL_INCIDENT_MIN_REPORTS", "3"))
INCIDENT_WINDOW_HOURS = int(os.environ.get("GENOPORTAL_INCIDENT_WINDOW_HOURS", "24"))
INCIDENT_SIMILARITY = float(os.environ.get("GENOPORTAL_INCIDENT_SIMILARITY", "0.15"))
INCIDENT_FAULT_TYPES = [
    slug for slug in os.environ.get("GENOPORTAL_INCIDENT_FAULT_TYPES", "").split(",") if slug
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# First a limit on what one request may upload to the views that set one
# (core.uploads.upload_limit: the documents' bulk upload), then Django's own:
# in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE for the whole request, else
# temporary files on disk, written in chunks.
FILE_UPLOAD_HANDLERS = [
    "core.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Documents for members (documents app): the largest PDF; a batch's files
# (a ZIP's entries) and bytes in all — one upload, and what a ZIP unpacks
# to (5,000 yearly statements of 100 KB each are 500 MB). Django's
# DATA_UPLOAD_MAX_NUMBER_FILES (100) bounds how many files one form sends;
# more go as one ZIP.
DOCUMENT_MAX_BYTES = int(os.environ.get("GENOPORTAL_DOCUMENT_MAX_MB", "20")) * 1024 * 1024
DOCUMENT_BATCH_MAX_FILES = int(os.environ.get("GENOPORTAL_DOCUMENT_BATCH_MAX_FILES", "10000"))
DOCUMENT_BATCH_MAX_BYTES = (
    int(os.environ.get("GENOPORTAL_DOCUMENT_BATCH_MAX_MB", "2048")) * 1024 * 1024
)

# Rate limits: (attempts, window in seconds), counted in accounts.throttle.
# Password checks and codes: failed attempts only count. "login:account"
# holds for devices the account never logged in on, "login:device" for one
# it did (a stranger's failures never lock the member's own device out).
# E-mails sent on request: every request counts. The messages name the
# windows (15 minutes, an hour): change both together.
RATE_LIMITS = {
    "login:account": (5, 15 * 60),
    "login:device": (5, 15 * 60),
    "login:ip": (30, 15 * 60),
    "activation:account": (5, 60 * 60),
    "activation:ip": (20, 60 * 60),
    "password_reset:address": (3, 60 * 60),
    "password_reset:ip": (10, 60 * 60),
    "email_change:account": (3, 60 * 60),
    "email_change:address": (3, 60 * 60),
    "email_change:ip": (10, 60 * 60),
    # Codes of the second login step (and the password or code that turns
    # it off): 6 digits, 3 valid at a time, 5 tries per 15 minutes.
    "otp:account": (5, 15 * 60),
    "otp:ip": (30, 15 * 60),
    # Certificate codes tried at /pruefen/ that name no certificate (a right
    # one gives its place back): no one reads members' names by trying.
    "certificate_verify:ip": (20, 15 * 60),
    # Accessibility reports (public form): each is a request and may e-mail
    # a confirmation to the address given.
    "accessibility_report:ip": (10, 60 * 60),
    "accessibility_report:address": (3, 60 * 60),
    "accessibility_report:account": (10, 60 * 60),
}
# Second login step (accounts.two_factor, django-otp). django-otp's own
# growing delays are off: code checks count in accounts.throttle instead.
OTP_LOGIN_URL = "accounts:login_code"
OTP_TOTP_ISSUER = os.environ.get("GENOPORTAL_OTP_ISSUER", "genoportal")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# The device admin (superusers only: for a lost phone) never shows a secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Proxies whose X-Forwarded-For / X-Real-IP name the client (core.client_ip):
# IPs or networks, comma-separated. Empty: no forwarded header is believed.
TRUSTED_PROXIES = env_list("GENOPORTAL_TRUSTED_PROXIES")
trusted_networks(tuple(TRUSTED_PROXIES))  # a typo stops the start, not every login

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "genoportal_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("GENOPORTAL_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served publicly; uploads go through checked views
# Members' documents and blank forms (documents.storage): apart from the
# media files, with no URL at all; only permission-checked views send them.
PRIVATE_ROOT = Path(os.environ.get("GENOPORTAL_PRIVATE_ROOT", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail. Development and the demo write every message as its own .eml file
# into var/mail/ (mail.backends) so a newcomer can read activation and reset
# links without a mail server.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "mail.backends.EmlFileBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 30
# How long one delivery attempt may hold an outbox row before mail_retry
# treats its worker as stopped (well above EMAIL_TIMEOUT times the SMTP steps).
MAIL_LEASE_SECONDS = int(os.environ.get("GENOPORTAL_MAIL_LEASE_SECONDS", "600"))
# Failed deliveries are tried again with growing pauses (mail.backoff: 1, 2,
# 4 … minutes, at most an hour); after this many attempts an e-mail is given
# up and listed for staff, who can send it again.
MAIL_MAX_ATTEMPTS = int(os.environ.get("GENOPORTAL_MAIL_MAX_ATTEMPTS", "10"))
# Incoming mail (mailroom): more messages from one address within an hour
# are kept but not processed (a second guard against mail loops).
MAIL_SENDER_LIMIT_PER_HOUR = int(os.environ.get("GENOPORTAL_MAIL_SENDER_LIMIT_PER_HOUR", "20"))
# The largest incoming message taken in, by every path (ingest_mail,
# fetch_mail from IMAP or a Maildir): one message must not eat the memory
# and database a cooperative's server has. A larger one piped in is refused
# so the sender gets a bounce; one found in a mailbox is left there and
# listed for staff with its headers only.
MAIL_MAX_BYTES = int(os.environ.get("GENOPORTAL_MAIL_MAX_BYTES", str(25 * 1024 * 1024)))
# The mailbox fetch_mail reads: members' replies go there (Reply-To).
MAIL_REPLY_TO = os.environ.get("GENOPORTAL_MAIL_REPLY_TO", "")
# Appointments (issue 13): the reminder goes this many hours before.
APPOINTMENT_REMINDER_HOURS = int(os.environ.get("GENOPORTAL_APPOINTMENT_REMINDER_HOURS", "24"))
# A member books at most this many appointments ahead (staff for a caller: any).
APPOINTMENTS_MAX_UPCOMING = int(os.environ.get("GENOPORTAL_APPOINTMENTS_MAX_UPCOMING", "4"))
# A member holds at most this many room bookings ahead (staff for a caller: any).
ROOMS_MAX_UPCOMING = int(os.environ.get("GENOPORTAL_ROOMS_MAX_UPCOMING", "3"))
# A member's copy of their data (privacy): downloadable this many days,
# then its file is deleted (manage.py privacy_exports_expire).
PRIVACY_EXPORT_EXPIRY_DAYS = int(os.environ.get("GENOPORTAL_PRIVACY_EXPORT_EXPIRY_DAYS", "7"))
# A preparation older than this belongs to a worker that stopped: marked
# failed, so the member can try again.
PRIVACY_EXPORT_LEASE_MINUTES = int(os.environ.get("GENOPORTAL_PRIVACY_EXPORT_LEASE_MINUTES", "30"))
# Former members' requests are anonymised this many years after they were
# closed (manage.py privacy_retention).
PRIVACY_RETENTION_YEARS = int(os.environ.get("GENOPORTAL_PRIVACY_RETENTION_YEARS", "3"))


def _mailboxes(value: str) -> list[dict]:
    """GENOPORTAL_MAILBOXES: a JSON list of IMAP mailboxes for fetch_mail,
    e.g. [{"name": "service", "host": "mail.example.org", "port": 993,
    "user": "service", "password_env": "SERVICE_IMAP_PASSWORD",
    "security": "ssl", "done_folder": "Erledigt"}]. The password itself is
    read from the variable named by "password_env" (never in the list)."""
    boxes = json.loads(value) if value.strip() else []
    for box in boxes:
        box["password"] = os.environ.get(box.pop("password_env", ""), "")
    return boxes


MAILROOM_MAILBOXES = _mailboxes(os.environ.get("GENOPORTAL_MAILBOXES", ""))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Genoportal <portal@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work: the database queue in every real deployment; the test
# suite runs tasks immediately (pytest sets GENOPORTAL_TASKS_IMMEDIATE).
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("GENOPORTAL_TASKS_IMMEDIATE", False)
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

SESSION_COOKIE_AGE = 60 * 60 * 8
# Staff sessions end after this long without a request (core.middleware).
STAFF_IDLE_MINUTES = int(os.environ.get("GENOPORTAL_STAFF_IDLE_MINUTES", "30"))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    if env_bool("DJANGO_BEHIND_PROXY", True):
        # The TLS-terminating proxy in front of gunicorn sets this header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Structured logging: one JSON object per line on stdout, for journald,
# Docker or any log shipper.
LOG_LEVEL = os.environ.get("GENOPORTAL_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.utils.autoreload": {"level": "WARNING"},
        # The PDF renderer (core.pdf) logs every step of every letter at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
