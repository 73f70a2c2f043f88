"""Personal requests stop being shown to the household partner.

Before, every ticket about a shared unit was visible to the household. The
forms the project ships that are personal (and any form in the categories
"membership" and "general") are marked as such, and the existing tickets
of those forms follow. Reversible: going back shows them again, as before."""

from django.db import migrations

PERSONAL_SLUGS = [
    "mitgliedsbescheinigung",
    "bankverbindung",
    "namensaenderung",
    "wohnungswechsel",
    "kuendigung",
    "allgemein",
]
PERSONAL_CATEGORIES = ["membership", "general"]


def personal_hide(apps, schema_editor):
    RequestType = apps.get_model("tickets", "RequestType")
    Ticket = apps.get_model("tickets", "Ticket")
    personal = RequestType.objects.filter(slug__in=PERSONAL_SLUGS) | RequestType.objects.filter(
        category__in=PERSONAL_CATEGORIES
    )
    personal.update(shared_with_household=False)
    Ticket.objects.filter(request_type__shared_with_household=False).update(
        shared_with_household=False
    )


def personal_show(apps, schema_editor):
    RequestType = apps.get_model("tickets", "RequestType")
    Ticket = apps.get_model("tickets", "Ticket")
    RequestType.objects.update(shared_with_household=True)
    Ticket.objects.update(shared_with_household=True)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_request_type_shared_with_household")]

    operations = [migrations.RunPython(personal_hide, personal_show)]
