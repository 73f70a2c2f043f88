"""Contract.members gets an explicit through model, ContractMember, on the
table the plain many-to-many field made (members_contract_members): its rows,
columns and unique index stay as they are (state only), and one column is
added: since when a member is on the contract (empty: since it began)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ContractMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "contract",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="members.contract"
                            ),
                        ),
                        (
                            "member",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, to="members.member"
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "member on the contract",
                        "verbose_name_plural": "members on the contract",
                        "db_table": "members_contract_members",
                        "unique_together": {("contract", "member")},
                    },
                ),
                migrations.AlterField(
                    model_name="contract",
                    name="members",
                    field=models.ManyToManyField(
                        related_name="contracts",
                        through="members.ContractMember",
                        to="members.member",
                        verbose_name="members",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="contractmember",
            name="joined",
            field=models.DateField(
                blank=True,
                help_text="Empty: since the contract began.",
                null=True,
                verbose_name="on the contract since",
            ),
        ),
    ]
