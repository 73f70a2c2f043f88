import re
import threading

from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from django.utils.translation import gettext, override


def de(text: str) -> str:
    """The German (default language) text of a source string, HTML-escaped as a
    page shows it: tests assert what a member really reads."""
    with override("de"):
        return escape(gettext(text))


def otp_device(user):
    """The account's authenticator app (a confirmed TOTP device), added on
    first use as if the person had enrolled."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def otp_code(device) -> str:
    """What the authenticator app shows right now."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def otp_verify(client, user, url="/anmelden/code/"):
    """Complete the second login step for a test client that logged in with
    the password (or `force_login`): the code the app shows, typed on the
    code page. Admins and team leads must do it before anything else."""
    device = otp_device(user)
    # A code is accepted once per 30-second step; tests log in many times
    # within one step, each as if on a later one.
    type(device).objects.filter(pk=device.pk).update(last_t=-1)
    response = client.post(url, {"code": otp_code(device)})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


MOST = 12  # the bound for every page
# Transaction bookkeeping: statements, but no work a page could save by
# asking differently.
BOOKKEEPING = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")


def shape(sql: str) -> str:
    """A statement with its literals and cursor names taken out."""
    sql = re.sub(r"_django_curs_\w+", "cursor", sql)
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)


def measured(client, url: str) -> list[str]:
    """The statements of one request of `url` (after one to warm caches)."""
    assert client.get(url).status_code == 200, url
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return [query["sql"] for query in captured.captured_queries]


def repeated(statements: list[str]) -> list[str]:
    seen, twice = set(), []
    for statement in statements:
        if BOOKKEEPING.match(statement):
            continue
        key = shape(statement)
        if key in seen:
            twice.append(statement[:200])
        seen.add(key)
    return twice


def database_url() -> str:
    """The test database as a DATABASE_URL, for a process the test starts
    (a worker, a command killed half-way)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def parallel(count: int, work) -> list:
    """Run work(i) in `count` threads started together; their results or errors."""
    results: list = [None] * count
    start = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = work(i)
        except Exception as error:  # the test looks at each outcome
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results
