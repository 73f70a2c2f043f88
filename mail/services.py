from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from cooperative.models import Cooperative
from mail.models import OutboundEmail
from mail.tasks import email_deliver


def email_queue(*, to: str, template: str, context: dict, language: str) -> OutboundEmail:
    """Render `template` (…_subject.txt / …_body.txt) in the recipient's language,
    store it in the outbox and deliver it once the surrounding transaction commits."""
    context = {"cooperative": Cooperative.objects.current(), **context}
    with translation.override(language):
        subject = render_to_string(f"{template}_subject.txt", context).strip()
        body = render_to_string(f"{template}_body.txt", context)
    with transaction.atomic():
        email = OutboundEmail.objects.create(to=to, subject=" ".join(subject.split()), body=body)
        transaction.on_commit(lambda: email_deliver.enqueue(email.pk))
    return email
