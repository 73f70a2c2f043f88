from django.db import transaction
from django.template import Context, Engine
from django.utils import translation

from cooperative.cache import cooperative_current
from mail.models import OutboundEmail
from mail.tasks import email_deliver


def _render_text(name: str, context: dict) -> str:
    """A plain-text template rendered without HTML escaping. E-mails are not
    HTML: with Django's default escaping a request type "Schlüssel & Schloss"
    arrived as "Schlüssel &amp; Schloss" (and "O'Neill" as "O&#x27;Neill").
    render_to_string always escapes, so the template is rendered through the
    engine with a Context that does not; no template can forget it."""
    template = Engine.get_default().get_template(name)
    return template.render(Context(context, autoescape=False))


def email_queue(
    *,
    to: str,
    template: str,
    context: dict,
    language: str,
    thread: str = "",
    written: bool = False,
) -> OutboundEmail:
    """Render `template` (…_subject.txt / …_body.txt) in the recipient's language,
    store it in the outbox and deliver it once the surrounding transaction commits."""
    context = {"cooperative": cooperative_current(), **context}
    with translation.override(language):
        subject = _render_text(f"{template}_subject.txt", context).strip()
        body = _render_text(f"{template}_body.txt", context)
    with transaction.atomic():
        email = OutboundEmail.objects.create(
            to=to, subject=" ".join(subject.split()), body=body, thread=thread, written=written
        )
        transaction.on_commit(lambda: email_deliver.enqueue(email.pk))
    return email
