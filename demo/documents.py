"""The demo's documents and forms (issue 15, points 1 and 2), all made
through the real services as staff would:

* the blank forms the office hands out (SEPA mandate, sublet application,
  notice of termination, house rules, statute), linked to their request
  forms;
* for alice's household the service-charge statement 2025 of their
  contract (alice and bob see it), an invitation for alice alone, and the
  statement 2014 of the previous tenant of their flat, which neither of
  them sees (the contract-and-period rule);
* a batch of the 2025 statements of alice's building, checked by lena
  (member services) and waiting for a team lead (tom) to publish it — its
  report has a few refused files to show;
* two ZIPs in var/demo/ to try the bulk upload with (named by contract
  number; and with an index.csv).

Idempotent: forms by address, people and contracts by number, documents
by what they are for, the batch by its title."""

import csv
import datetime
import hashlib
import io
import zipfile
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import roles
from accounts.models import User
from cooperative.models import Unit
from demo.cast import Cast
from demo.pdf import pdf_simple
from documents.models import Addressed, DocumentBatch, DocumentKind, Form, FormTopic
from documents.selectors import addressees_published
from documents.services import About, batch_check, document_publish
from members.models import Contract, ContractMember, Member, Salutation
from tickets.models import RequestType

STATEMENT_2025 = "Betriebskostenabrechnung 2025"
YEAR_2025 = (datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))

FORMS = [
    # slug, topic, German and English title, description, request types, text
    (
        "sepa-lastschriftmandat",
        FormTopic.PAYMENT,
        ("SEPA-Lastschriftmandat", "SEPA direct debit mandate"),
        (
            "Damit wir Nutzungsgebühr und Anteile von Ihrem Konto einziehen dürfen.",
            "So that we may collect the monthly fee and shares from your account.",
        ),
        ["bankverbindung"],
        [
            "Gläubiger-Identifikationsnummer: DE98ZZZ09999999999",
            "Ich ermächtige die Wohnungsgenossenschaft Beispiel eG, Zahlungen von meinem",
            "Konto mittels Lastschrift einzuziehen.",
            "",
            "Kontoinhaber/in: ______________________________",
            "IBAN: DE__ ____ ____ ____ ____ __",
            "Ort, Datum, Unterschrift: ______________________",
        ],
    ),
    (
        "untermieterlaubnis-antrag",
        FormTopic.APARTMENT,
        ("Antrag auf Untermieterlaubnis", "Application for permission to sublet"),
        (
            "Wenn Sie einen Teil Ihrer Wohnung untervermieten möchten.",
            "If you would like to sublet part of your apartment.",
        ),
        ["genehmigung"],
        [
            "Mitgliedsnummer: __________   Wohnung: __________",
            "Name der Untermieterin / des Untermieters: ______________________",
            "Räume: ______________   ab: __________   bis: __________",
            "Grund: ____________________________________________",
            "Ort, Datum, Unterschrift: ______________________",
        ],
    ),
    (
        "kuendigungsvorlage",
        FormTopic.APARTMENT,
        (
            "Kündigung des Nutzungsvertrags (Vorlage)",
            "Notice of termination of the contract (template)",
        ),
        (
            "Bitte von allen Vertragspartnern unterschreiben. Die Frist beträgt drei Monate.",
            "To be signed by everyone on the contract. The notice period is three months.",
        ),
        ["kuendigung"],
        [
            "Hiermit kündige(n) ich/wir den Nutzungsvertrag Nr. __________",
            "für die Wohnung __________________________ zum __________.",
            "",
            "Neue Anschrift: ____________________________________",
            "Unterschriften aller Vertragspartner: ______________________",
        ],
    ),
    (
        "hausordnung",
        FormTopic.LIVING,
        ("Hausordnung", "House rules"),
        (
            "Ruhezeiten, Treppenhaus, Müll, Haustiere: was in unseren Häusern gilt.",
            "Quiet hours, staircase, rubbish, pets: what applies in our buildings.",
        ),
        ["genehmigung"],
        [
            "1. Ruhezeiten: werktags 22 bis 6 Uhr, sonn- und feiertags ganztags.",
            "2. Treppenhaus und Flure sind Fluchtwege und bleiben frei.",
            "3. Haustiere außer Kleintieren nur mit Genehmigung der Genossenschaft.",
            "4. Müll wird getrennt in die Behälter im Hof gebracht.",
        ],
    ),
    (
        "satzung",
        FormTopic.MEMBERSHIP,
        ("Satzung der Genossenschaft", "Statute of the cooperative"),
        (
            "Rechte und Pflichten der Mitglieder, Anteile, Kündigungsfristen.",
            "Members' rights and duties, shares, notice periods.",
        ),
        ["mitgliedsbescheinigung", "kuendigung"],
        [
            "§ 1 Name und Sitz: Wohnungsgenossenschaft Beispiel eG, Berlin.",
            "§ 4 Erwerb der Mitgliedschaft durch Beitrittserklärung.",
            "§ 7 Kündigung der Mitgliedschaft mit einer Frist von zwei Jahren",
            "     zum Schluss eines Geschäftsjahres.",
            "§ 17 Geschäftsanteil: 160,00 Euro.",
        ],
    ),
]


def forms_demo_ensure() -> list[Form]:
    """The five blank forms; a form made once keeps its file on later runs."""
    types = dict(RequestType.objects.values_list("slug", "pk"))
    made = []
    for position, (slug, topic, titles, texts, type_slugs, lines) in enumerate(FORMS):
        form = Form.objects.filter(slug=slug).first() or Form(slug=slug)
        form.topic = topic
        form.title_de, form.title_en = titles
        form.description_de, form.description_en = texts
        form.position = position * 10
        form.active = True
        if not form.file:
            data = pdf_simple(titles[0], ["Wohnungsgenossenschaft Beispiel eG", "", *lines])
            form.size = len(data)
            form.sha256 = hashlib.sha256(data).hexdigest()
            form.file.save(f"{slug}.pdf", ContentFile(data), save=False)
        form.save()
        form.request_types.set([types[s] for s in type_slugs if s in types])
        made.append(form)
    return made


def _previous_tenant(unit: Unit) -> Contract:
    """Petra Vogt lived in alice's flat until alice and bob moved in."""
    member, _created = Member.objects.update_or_create(
        member_number="20100",
        defaults={
            "salutation": Salutation.MS,
            "first_name": "Petra",
            "last_name": "Vogt",
            "street": "Lindenweg 4",
            "postcode": "10318",
            "city": "Berlin",
            "joined_on": datetime.date(2005, 3, 1),
            "left_on": datetime.date(2015, 8, 31),
        },
    )
    contract, _created = Contract.objects.update_or_create(
        number=f"NV-{unit.number}-V",
        defaults={
            "unit": unit,
            "start": datetime.date(2005, 4, 1),
            "end": datetime.date(2015, 8, 31),
            "monthly_fee": Decimal("398.00"),
        },
    )
    ContractMember.objects.get_or_create(contract=contract, member=member)
    return contract


def _statement(contract: Contract, year: int, amount: str) -> bytes:
    return pdf_simple(
        f"Betriebskostenabrechnung {year}",
        [
            "Wohnungsgenossenschaft Beispiel eG",
            f"Nutzungsvertrag {contract.number}, Wohnung {contract.unit.number}",
            f"Abrechnungszeitraum: 01.01.{year} bis 31.12.{year}",
            "",
            "Heizung und Warmwasser, Wasser und Abwasser, Müllabfuhr, Hausreinigung,",
            "Gartenpflege, Allgemeinstrom, Versicherungen, Grundsteuer.",
            "",
            f"Ergebnis: {amount}",
        ],
    )


def _publish_once(actor: User, addressee, about: About, data: bytes, name: str) -> None:
    addressed = {Member: Addressed.MEMBER, Contract: Addressed.CONTRACT, Unit: Addressed.UNIT}[
        type(addressee)
    ]
    fields = {
        "kind": about.kind,
        "title": about.title,
        "period_start": about.period_start,
        "period_end": about.period_end or about.period_start,
    }
    if addressees_published(numbers=addressed, ids={addressee.pk}, **fields):
        return
    upload = SimpleUploadedFile(name, data, content_type="application/pdf")
    document_publish(actor=actor, upload=upload, addressee=addressee, about=about)


def _batch_files(contracts: list[Contract]) -> list[tuple[str, bytes]]:
    """The statements of all but the last contract; then what goes wrong
    in real uploads: an unknown number, the last contract's file that is
    no PDF (a spreadsheet saved under the wrong name), a name without a
    number."""
    *good, last = contracts
    files = [
        (
            f"{contract.number}_Betriebskosten_2025.pdf",
            _statement(
                contract, 2025, f"{'Nachzahlung' if i % 3 else 'Guthaben'} {37 + i * 13},{i:02d} €"
            ),
        )
        for i, contract in enumerate(good)
    ]
    files.append(("NV-9999999_Betriebskosten_2025.pdf", _statement(last, 2025, "0,00 €")))
    files.append((f"{last.number}_Betriebskosten_2025.pdf", b"Wohnung;Betrag\n1;12,00\n"))
    files.append(("Betriebskosten_2025_Deckblatt.pdf", pdf_simple("Deckblatt", ["2025"])))
    return files


def _zip(files: list[tuple[str, bytes]], index: list[tuple[str, str]] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
        if index is not None:
            text = io.StringIO()
            writer = csv.writer(text, delimiter=";", lineterminator="\n")
            writer.writerow(["Datei", "Nummer"])
            writer.writerows(index)
            archive.writestr("index.csv", text.getvalue())
    return buffer.getvalue()


def zips_demo_write(folder: Path) -> list[Path]:
    """Two archives to try the bulk upload with, for Wohnanlage Süd: the
    2025 statements named by contract number (three files refused), and
    letters about the heating with an index.csv naming member numbers."""
    folder.mkdir(parents=True, exist_ok=True)
    contracts = list(
        Contract.objects.current()
        .filter(unit__building__estate__number="WA-02")
        .select_related("unit")
        .order_by("number")[:12]
    )
    written = []
    if contracts:
        path = folder / "betriebskosten-2025-wohnanlage-sued.zip"
        path.write_bytes(_zip(_batch_files(contracts)))
        written.append(path)
        holders = list(
            ContractMember.objects.filter(contract__in=contracts)
            .select_related("member")
            .order_by("member__member_number")
        )
        letters = [
            (
                f"brief-{number:03d}.pdf",
                pdf_simple(
                    "Neue Heizungsanlage",
                    [
                        f"Sehr geehrte/r {holder.member.full_name},",
                        "im Mai wird die Heizung erneuert.",
                    ],
                ),
            )
            for number, holder in enumerate(holders, start=1)
        ]
        index = [
            (name, holder.member.member_number)
            for (name, _data), holder in zip(letters, holders, strict=True)
        ]
        path = folder / "heizung-briefe-mit-index.zip"
        path.write_bytes(_zip(letters, index))
        written.append(path)
    return written


def documents_demo_ensure(cast: Cast, *, lena: User | None = None) -> dict:
    """Everything above; `lena` (member services) gets the documents role
    and uploads the batch, else ada does."""
    if lena is not None:
        lena.groups.add(Group.objects.get(name=roles.DOCUMENTS))
    forms = forms_demo_ensure()
    alice_contract = Contract.objects.current().get(members=cast.alice.member)
    previous = _previous_tenant(alice_contract.unit)
    statement = About(DocumentKind.STATEMENT, STATEMENT_2025, *YEAR_2025)
    _publish_once(
        cast.ada,
        alice_contract,
        statement,
        _statement(alice_contract, 2025, "Guthaben 84,17 €"),
        f"{alice_contract.number}_Betriebskosten_2025.pdf",
    )
    _publish_once(
        cast.ada,
        previous,
        About(
            DocumentKind.STATEMENT,
            "Betriebskostenabrechnung 2014",
            datetime.date(2014, 1, 1),
            datetime.date(2014, 12, 31),
        ),
        _statement(previous, 2014, "Nachzahlung 212,40 €"),
        f"{previous.number}_Betriebskosten_2014.pdf",
    )
    invitation_day = datetime.date(2026, 6, 18)
    _publish_once(
        cast.ada,
        cast.alice.member,
        About(DocumentKind.INVITATION, "Einladung zur Vertreterversammlung 2026", invitation_day),
        pdf_simple(
            "Einladung zur Vertreterversammlung 2026",
            [
                "Sehr geehrte Frau Ahrens,",
                "als gewählte Vertreterin laden wir Sie herzlich ein:",
                "Donnerstag, 18. Juni 2026, 18 Uhr, Gemeinschaftshaus Nordring.",
            ],
        ),
        "20001_Einladung.pdf",
    )
    batch = DocumentBatch.objects.filter(
        source=DocumentBatch.Source.BULK,
        title=STATEMENT_2025,
        state__in=["checked", "published"],
    ).first()
    if batch is None:
        building = alice_contract.unit.building
        neighbours = list(
            Contract.objects.current()
            .filter(unit__building=building)
            .exclude(pk=alice_contract.pk)
            .select_related("unit")
            .order_by("number")
        )
        files = _batch_files([alice_contract, *neighbours])
        upload = SimpleUploadedFile(
            "betriebskosten-2025-nordring-1.zip", _zip(files), content_type="application/zip"
        )
        batch = batch_check(
            actor=lena or cast.ada,
            uploads=[upload],
            numbers=Addressed.CONTRACT,
            about=About(DocumentKind.STATEMENT, STATEMENT_2025, *YEAR_2025),
        )
    zips = zips_demo_write(Path(settings.VAR_DIR) / "demo")
    return {"forms": forms, "batch": batch, "zips": zips, "previous": previous}
