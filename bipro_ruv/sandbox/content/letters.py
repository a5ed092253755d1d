"""The broker copies of the default mailbox (BiPRO Norm 430 ``Lieferung`` of documents, GeVo categories 1xx).

R+V delivers through the TransferService "vortagesaktuell dieselben Dokumente, die wir auch in unserem
Dokumentenarchiv bereitstellen": broker copies of policies, Nachträge, invoices, dunning letters, claim and
customer letters. Each function here builds one such shipment of PDF letters for a contract of the seeded book
(:mod:`~bipro_ruv.sandbox.content.contracts`); :func:`letter_shipments` returns them all, in the order the
default mailbox draws its shipment IDs and times from its :class:`~.shipments.MailboxPlan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from bipro_ruv.sandbox.content import gdv_writer
from bipro_ruv.sandbox.content.contracts import AGENCY_NUMBER, BROKER_NAME, SandboxContract, find_contract
from bipro_ruv.sandbox.content.pdf import make_pdf
from bipro_ruv.sandbox.content.shipments import (
    MailboxPlan,
    SeedDocument,
    SeedShipment,
    make_document,
    make_shipment,
)

__all__ = ["letter_shipments"]


def letter_shipments(plan: MailboxPlan, claim_number: str, paid: Decimal) -> list[SeedShipment]:
    """The letters of the default mailbox; the order fixes which IDs and times each one draws."""
    return [
        _police_with_invoice(plan),
        _nachtrag(plan),
        _mahnung(plan),
        _schaden(plan, claim_number, paid),
        _kuendigung(plan),
        _kfz_anforderung(plan),
        *_merger(plan),
    ]


# -- letter text ---------------------------------------------------------------------------------------------


def _euro(value: Decimal) -> str:
    whole, cents = f"{value:.2f}".split(".")
    return f"{int(whole):,}".replace(",", ".") + f",{cents} EUR"


def _letter(contract: SandboxContract, subject: str, body: Sequence[str], written: date) -> list[str]:
    customer = contract.customer
    return [
        contract.insurer_name,
        "SANDBOX - Testdokument, keine echte Korrespondenz",
        f"Maklerexemplar für {BROKER_NAME}, Agentur {AGENCY_NUMBER}",
        "",
        customer.display_name,
        customer.street,
        f"{customer.postcode} {customer.city}",
        "",
        f"Datum: {written:%d.%m.%Y}",
        f"Versicherungsnummer: {contract.vsnr}",
        f"Versicherungsnehmer: {customer.display_name}",
        f"Produkt: {contract.product}",
        "",
        subject,
        "",
        customer.letter_salutation,
        "",
        *body,
        "",
        "Mit freundlichen Grüßen",
        contract.insurer_name,
    ]


def _premium_lines(contract: SandboxContract) -> list[str]:
    net = contract.annual_premium
    return [
        f"Jahresbeitrag netto: {_euro(net)}",
        f"Versicherungsteuer ({contract.tax_rate:.0f} %): {_euro(contract.tax_on(net))}",
        f"Jahresbeitrag brutto: {_euro(net + contract.tax_on(net))}",
    ]


def _pdf_document(
    contract: SandboxContract,
    title: str,
    body: Sequence[str],
    written: date,
    *,
    file_name: str,
    dokumentart: str,
    kurzbeschreibung: str,
    checksum: str | None = None,
) -> SeedDocument:
    pdf = make_pdf(title, _letter(contract, title, body, written))
    return make_document(
        pdf,
        file_name,
        dokumentart=dokumentart,
        contract=contract,
        kurzbeschreibung=kurzbeschreibung,
        checksum=checksum,
    )


# -- shipments -----------------------------------------------------------------------------------------------


def _letter_shipment(
    plan: MailboxPlan, kategorie: str, art: str, contract: SandboxContract, document: SeedDocument
) -> SeedShipment:
    """One letter about ``contract``, placed in a recent night."""
    return make_shipment(
        next(plan.ids), kategorie, art, plan.recent_night(), [document], sparte=contract.sparte
    )


def _police_with_invoice(plan: MailboxPlan) -> SeedShipment:
    contract = find_contract("44090312655")
    written = plan.today - timedelta(days=2)
    period = gdv_writer.installment_period(contract, written)
    gross = contract.installment + contract.tax_on(contract.installment)
    police = _pdf_document(
        contract,
        "Versicherungsschein",
        [
            "wir freuen uns, Sie als Kunden der R+V begrüßen zu dürfen. Mit diesem Versicherungsschein "
            f"dokumentieren wir den Versicherungsschutz Ihrer {contract.product}.",
            "",
            f"Versicherungsbeginn: {contract.start:%d.%m.%Y}, 00:00 Uhr",
            f"Hauptfälligkeit: {contract.start:%d.%m.}, Zahlungsweise: jährlich",
            *_premium_lines(contract),
            "",
            "Es gelten die beigefügten Allgemeinen Versicherungsbedingungen und Klauseln.",
        ],
        written,
        file_name=f"Versicherungsschein_{contract.vsnr}_{written:%Y%m%d}.pdf",
        dokumentart="Police",
        kurzbeschreibung="Versicherungsschein Gewerbebündel",
        checksum="SHA256",
    )
    invoice = _pdf_document(
        contract,
        "Beitragsrechnung",
        [
            f"für den Zeitraum {period[0]:%d.%m.%Y} bis {period[1]:%d.%m.%Y} berechnen wir Ihnen:",
            f"Nettobeitrag: {_euro(contract.installment)}",
            f"Versicherungsteuer ({contract.tax_rate:.0f} %): {_euro(contract.tax_on(contract.installment))}",
            f"Zu zahlender Betrag: {_euro(gross)}",
            "",
            "Der Beitrag wird über Ihren Vermittler abgerechnet. Bitte zahlen Sie an Ihren Vermittler.",
        ],
        written,
        file_name=f"Beitragsrechnung_{contract.vsnr}_{written:%Y%m%d}.pdf",
        dokumentart="Beitragsrechnung",
        kurzbeschreibung="Erstbeitragsrechnung",
    )
    return make_shipment(
        next(plan.ids), "100007000", "1002", plan.night_of(1), [police, invoice], sparte=contract.sparte
    )


def _nachtrag(plan: MailboxPlan) -> SeedShipment:
    contract = find_contract("48205517093")
    written = plan.today - timedelta(days=3)
    effective = gdv_writer.installment_period(contract, written)[1] + timedelta(days=1)
    document = _pdf_document(
        contract,
        "Nachtrag zum Versicherungsschein",
        [
            f"wir haben Ihren Vertrag mit Wirkung zum {effective:%d.%m.%Y} geändert:",
            "Die Versicherungssumme 1914 wurde an den aktuellen Baupreisindex angepasst "
            "(gleitender Neuwert). Der Versicherungsschutz bleibt im Übrigen unverändert.",
            "",
            *_premium_lines(contract),
        ],
        written,
        file_name=f"Nachtrag Wohngebäude {contract.vsnr}.pdf",
        dokumentart="Nachtrag",
        kurzbeschreibung="Nachtrag Anpassung Versicherungssumme",
        checksum="MD5",
    )
    return _letter_shipment(plan, "120000000", "1002", contract, document)


def _mahnung(plan: MailboxPlan) -> SeedShipment:
    contract = find_contract("35781200456")
    written = plan.today - timedelta(days=4)
    due = gdv_writer.installment_period(contract, written)[0]
    gross = contract.installment + contract.tax_on(contract.installment)
    document = _pdf_document(
        contract,
        "Mahnung",
        [
            f"der am {due:%d.%m.%Y} fällige Folgebeitrag von {_euro(gross)} ist bei uns noch nicht "
            "eingegangen.",
            "Bitte zahlen Sie den Betrag innerhalb von zwei Wochen nach Zugang dieses Schreibens.",
            "Zahlen Sie nicht fristgerecht, sind wir nach § 38 VVG für danach eintretende Versicherungsfälle "
            "leistungsfrei und können den Vertrag fristlos kündigen.",
            "",
            "Mahnverfahren EV: aktiv",
        ],
        written,
        file_name=f"Mahnung_{contract.vsnr}_{written:%Y%m%d}.pdf",
        dokumentart="Mahnung",
        kurzbeschreibung="Mahnung Folgebeitrag",
    )
    return _letter_shipment(plan, "140012021", "1201", contract, document)


def _schaden(plan: MailboxPlan, claim_number: str, paid: Decimal) -> SeedShipment:
    contract = find_contract("32701234568")
    written = plan.today - timedelta(days=2)
    accident = written - timedelta(days=plan.rng.randint(20, 60))
    document = _pdf_document(
        contract,
        f"Ihr Schaden {claim_number}",
        [
            f"zum Kfz-Haftpflichtschaden vom {accident:%d.%m.%Y} mit Ihrem Fahrzeug {contract.kennzeichen} "
            "haben wir die Ansprüche des Geschädigten geprüft.",
            f"Wir haben an den Anspruchsteller {_euro(paid)} gezahlt und den Schaden damit abgeschlossen.",
            "Der Schaden wird bei der Einstufung in die Schadenfreiheitsklasse zum nächsten 1. Januar "
            "berücksichtigt. Sie können die Rückstufung vermeiden, indem Sie uns den Betrag innerhalb von "
            "sechs Monaten erstatten.",
            "",
            f"Schadennummer: {claim_number}",
        ],
        written,
        file_name=f"Schadenschreiben_{claim_number}.pdf",
        dokumentart="Schadenerledigung",
        kurzbeschreibung=f"Schadenabrechnung {claim_number}",
        checksum="SHA256",
    )
    return _letter_shipment(plan, "150013000", "2102", contract, document)


def _kuendigung(plan: MailboxPlan) -> SeedShipment:
    contract = find_contract("84002519731")
    written = plan.today - timedelta(days=5)
    received = written - timedelta(days=plan.rng.randint(3, 10))
    ends = gdv_writer.installment_period(contract, written)[1]
    document = _pdf_document(
        contract,
        "Bestätigung Ihrer Kündigung",
        [
            f"wir bestätigen den Eingang Ihrer Kündigung vom {received:%d.%m.%Y}.",
            f"Ihr Vertrag endet fristgerecht zum Ablauf des {ends:%d.%m.%Y}, 24:00 Uhr.",
            "Bis dahin besteht der Versicherungsschutz unverändert fort. Wir bedauern Ihre Entscheidung und "
            "würden uns freuen, Sie künftig wieder als Kunden begrüßen zu dürfen.",
        ],
        written,
        file_name=f"Kuendigungsbestaetigung_{contract.vsnr}.pdf",
        dokumentart="Anschreiben",
        kurzbeschreibung="Kündigungsbestätigung",
    )
    return _letter_shipment(plan, "160010002", "1002", contract, document)


def _kfz_anforderung(plan: MailboxPlan) -> SeedShipment:
    """A Kfz-Antragsanforderungsschreiben: no VSNR yet, only R+V's own ID number and the Kennzeichen."""
    customer = find_contract("30418820375").customer
    letter_id = f"{plan.rng.randrange(10**9, 10**10)}"
    evb = "".join(plan.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ23456789") for _ in range(7))
    written = plan.today - timedelta(days=1)
    lines = [
        "R+V Allgemeine Versicherung AG",
        "SANDBOX - Testdokument, keine echte Korrespondenz",
        f"Maklerexemplar für {BROKER_NAME}, Agentur {AGENCY_NUMBER}",
        "",
        customer.display_name,
        customer.street,
        f"{customer.postcode} {customer.city}",
        "",
        f"Datum: {written:%d.%m.%Y}",
        f"ID-Nummer: {letter_id}",
        "Amtliches Kennzeichen: WI-EM 2024",
        f"eVB-Nummer: {evb}",
        "",
        customer.letter_salutation,
        "",
        f"mit der eVB-Nummer {evb} wurde das Fahrzeug mit dem Kennzeichen WI-EM 2024 zugelassen.",
        "Der Antrag zur Kfz-Versicherung liegt uns noch nicht vor. Bitte senden Sie uns den unterschriebenen "
        "Antrag innerhalb von 14 Tagen. Geht er nicht rechtzeitig ein, endet die vorläufige Deckung.",
        "Bitte geben Sie bei Rückfragen immer die oben genannte ID-Nummer an.",
        "",
        "Mit freundlichen Grüßen",
        "R+V Allgemeine Versicherung AG",
    ]
    document = make_document(
        make_pdf("Anforderung Ihres Kfz-Versicherungsantrags", lines),
        f"Kfz-Anforderungsschreiben_{letter_id}.pdf",
        dokumentart="Anschreiben",
        vu_number="5438",
        kurzbeschreibung=f"Antragsanforderung ID {letter_id}, Kennzeichen WI-EM 2024",
        checksum="MD5",
    )
    return make_shipment(next(plan.ids), "100005100", "1002", plan.recent_night(), [document], sparte="050")


def _merger(plan: MailboxPlan) -> list[SeedShipment]:
    """The same VSNR under Condor (5339, Abgang) and R+V Allgemeine (5438, replacement policy)."""
    old = find_contract("18560093318", "5339")
    new = find_contract("18560093318", "5438")
    written = plan.today - timedelta(days=3)
    notice = _pdf_document(
        old,
        "Mitteilung zur Verschmelzung",
        [
            "die Condor Allgemeine Versicherungs-AG ist auf die R+V Allgemeine Versicherung AG verschmolzen "
            "worden, rückwirkend zum 01.01.2024.",
            "Ihr Vertrag wird unter der bisherigen Versicherungsnummer unverändert fortgeführt. Ihr neuer "
            "Vertragspartner ist die R+V Allgemeine Versicherung AG.",
        ],
        written,
        file_name=f"Nachtrag_{old.vsnr}_Condor.pdf",
        dokumentart="Nachtrag",
        kurzbeschreibung="Verschmelzung Condor auf R+V",
    )
    policy = _pdf_document(
        new,
        "Versicherungsschein (Ersatzpolice)",
        [
            "nach der Verschmelzung der Condor Allgemeine Versicherungs-AG erhalten Sie einen neuen "
            "Versicherungsschein der R+V Allgemeine Versicherung AG. Versicherungsnummer, Umfang und "
            "Beitrag bleiben unverändert.",
            "",
            *_premium_lines(new),
        ],
        written,
        file_name=f"Ersatzpolice_{new.vsnr}.pdf",
        dokumentart="Police",
        kurzbeschreibung="Ersatzpolice nach Verschmelzung",
        checksum="SHA256",
    )
    placed = plan.night_of(2)
    return [
        make_shipment(next(plan.ids), "120000000", "1002", placed, [notice], sparte=old.sparte),
        make_shipment(
            next(plan.ids), "170011000", "1002", placed + timedelta(minutes=3), [policy], sparte=new.sparte
        ),
    ]
