"""The realistic generator's contract book: a contract's Bestand records (addresses, the 0200, the Sparte
parts, Beteiligung) and its Inkasso records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bipro_ruv.sandbox.content.gdv_writer.book_kfz import KfzParts
from bipro_ruv.sandbox.content.gdv_writer.book_leben import LebenParts
from bipro_ruv.sandbox.content.gdv_writer.book_sach import SachParts
from bipro_ruv.sandbox.content.gdv_writer.encoding import _LEBEN_SPARTE
from bipro_ruv.sandbox.content.gdv_writer.people import (
    _BANKS,
    _CENT,
    _Contract,
    _formatted_vsnr,
    _iban,
    _Person,
    _Planned,
)


class Book(LebenParts, SachParts, KfzParts):
    """Draws contracts and their records from one ``random.Random``."""

    # -- Bestand -----------------------------------------------------------------------------------------

    def bestand(self, contract: _Contract) -> list[_Planned]:
        bundle = {"bundle_flag": "1"} if contract.sparte == "000" else {}
        self.key_head = {
            "insurer_number": contract.vu,
            **bundle,
            "vsnr": contract.vsnr,
            "sequence_number": "01",
            "agency": self.agency,
        }
        self.head = {**self.key_head, "line_of_business": contract.sparte}
        sparte_records: list[_Planned] = []
        if contract.sparte == "000":
            for part in ("040", "130", "030") if self.chance(0.4) else ("040", "130"):
                sparte_records += self.sparte(part, contract)
        else:
            sparte_records = self.sparte(contract.sparte, contract)
        records = self.addresses(contract)
        records += self.general(contract)
        records += sparte_records
        if self.chance(0.08):
            records += self.participation(contract)
        return records

    def sparte(self, sparte: str, contract: _Contract) -> list[_Planned]:
        builder = {
            "010": self.leben,
            "030": self.unfall,
            "040": self.haftpflicht,
            "050": self.kfz,
            "130": self.hausrat,
            "140": self.wohngebaeude,
        }[sparte]
        return builder(contract)

    def addresses(self, contract: _Contract) -> list[_Planned]:
        person = contract.person
        records = self.address("01", person, contract)
        if contract.sparte in ("010", "030") and self.chance(0.5):
            records += self.address("02", self.person(), contract)  # versicherte Person
        if self.chance(0.15):
            records += self.address("08", self.person(), contract)  # Beitragszahler (code illustrative)
        return records

    def address(self, role: str, person: _Person, contract: _Contract) -> list[_Planned]:
        head = self.head
        first: dict[str, object] = {
            **head,
            "salutation_code": person.salutation,
            "name_1": person.name_1,
            "name_3": person.name_3,
            "title": person.title,
            "country": "D",
            "postcode": person.postcode,
            "city": person.city,
            "street": person.street,
            "birth_date": person.birth_date,
            "address_role": role,
            "gender": person.gender,
        }
        if person.salutation == "3":
            first["name_2"] = "z. Hd. Geschäftsführung"
        second: dict[str, object] = {
            **head,
            "insurer_customer_number": contract.customer_number if role == "01" else self.digits(10),
            "agent_customer_number": f"K{self.digits(6)}",
            "comm_type_1": "10",
            "comm_number_1": f"0{self.digits(3)} {self.digits(7)}",
            "payment_method": "1" if contract.collection == "2" else "2",
            "person_seq": f"{1 + int(self.rng.random() * 999999):06d}",
        }
        if self.chance(0.3):
            second["comm_type_2"] = "60"
            second["comm_number_2"] = f"kunde{self.digits(4)}@web.de"
        records: list[_Planned] = [(("0100", "", "", 1), first), (("0100", "", "", 2), second)]
        if role == "01" and self.chance(0.35):
            bank, code, bic = self.pick(_BANKS)
            records.append(
                (
                    ("0100", "", "", 4),
                    {
                        **head,
                        "bank_name_1": bank,
                        "bic_1": bic,
                        "iban_1": _iban(code, int(self.rng.random() * 10**10)),
                    },
                )
            )
        return records

    def general(self, contract: _Contract) -> list[_Planned]:
        premium = contract.premium
        first: dict[str, object] = {
            **self.head,
            "collection_type": contract.collection,
            "start_date": contract.start,
            "end_date": contract.end,
            "main_due_date": contract.start.replace(year=self.created.year),
            "payment_frequency": contract.frequency,
            "contract_status": contract.status,
            "currency": "EUR",
            "total_premium_net": premium,
            "insurer_customer_number": contract.customer_number,
            "application_date": date.fromordinal(contract.start.toordinal() - 14),
        }
        if contract.status == "4":
            first["cancellation_reason"] = contract.reason
            first["cancellation_date"] = contract.cancelled
        if self.chance(0.05):
            first["reference_vsnr"] = f"74{self.digits(9)}"
            first["reference_vsnr_spec"] = "1"
        gross = premium + (premium * contract.tax_rate).quantize(_CENT)
        vsnr = contract.vsnr
        second: dict[str, object] = {
            **self.head,
            "agent_vsnr": f"VM{vsnr}",
            "total_premium_gross": gross,
            "vsnr_formatted": _formatted_vsnr(vsnr),
            "product_name": contract.product,
            "policy_issue_date": date.fromordinal(contract.start.toordinal() - 3),
        }
        return [(("0200", "", "", 1), first), (("0200", "", "", 2), second)]

    def participation(self, contract: _Contract) -> list[_Planned]:
        ours = Decimal(50 + int(self.rng.random() * 40))
        first: dict[str, object] = {
            **self.head,
            "change_date": contract.start,
            "insurer_share": ours,
            "record_seq": "01",
            "coinsurer_number": "5058",
            "coinsurer_share": Decimal(100) - ours,
            "coinsurer_vsnr": f"K{self.digits(10)}",
        }
        records: list[_Planned] = [(("0300", "", "", 1), first)]
        if self.chance(0.3):
            records.append((("0300", "", "", 2), {**self.head, "filing_reference": f"BT-{self.digits(8)}"}))
        return records

    def premiums(self, contract: _Contract) -> None:
        """The annual Sparte premiums alone: an Inkasso file books them without the Bestand records."""
        for sparte in ("040", "130") if contract.sparte == "000" else (contract.sparte,):
            if sparte == "050":
                parts = ["051"]
                casco = self.rng.random()
                parts += ["052"] if casco < 0.45 else ["053"] if casco < 0.75 else []
                parts += ["055"] if self.chance(0.25) else []
                for part in parts:
                    contract.premiums[part] = Decimal(int(self.rng.random() * 9000) + 300).scaleb(-1)
            elif sparte == _LEBEN_SPARTE:
                contract.premiums[sparte] = self.money(25, 400) * 12
            else:
                contract.premiums[sparte] = self.money(40, 1500)

    # -- Inkasso -----------------------------------------------------------------------------------------

    def inkasso(self, contract: _Contract) -> list[_Planned]:
        """One booking: a debit for a live contract, a refund (negative amounts) for a cancelled one."""
        head = {
            "insurer_number": contract.vu,
            **({"bundle_flag": "1"} if contract.sparte == "000" else {}),
            "line_of_business": contract.sparte,
            "vsnr": contract.vsnr,
            "sequence_number": "01",
            "agency": self.agency,
        }
        per_year = int(contract.frequency)
        months = 12 // per_year
        begin = date(self.created.year, 1 + (self.created.month - 1) // months * months, 1)
        last = date.fromordinal(
            date(
                begin.year + (begin.month + months - 1) // 12, (begin.month + months - 1) % 12 + 1, 1
            ).toordinal()
            - 1
        )
        refund = contract.status == "4" or self.chance(0.04)
        factor = -1 if refund else 1
        parts = contract.premiums or {contract.sparte: self.money(100, 900)}
        rate = contract.tax_rate
        commission_rate = Decimal("0.02") if contract.sparte == _LEBEN_SPARTE else Decimal("0.12")
        lines: list[tuple[str, Decimal, Decimal, Decimal]] = []
        for sparte, annual in parts.items():
            net = (annual / per_year).quantize(_CENT) * factor
            tax = (net * rate).quantize(_CENT)
            lines.append((sparte, net, tax, (net * commission_rate).quantize(_CENT)))
        net = sum((x[1] for x in lines), Decimal("0.00"))
        tax = sum((x[2] for x in lines), Decimal("0.00"))
        commission = sum((x[3] for x in lines), Decimal("0.00"))
        gross = net + tax
        booked = self.created
        first: dict[str, object] = {
            **head,
            "collection_type": contract.collection,
            "receivable_type": "02" if refund else "01",
            "booking_date": booked,
            "billing_period_from": begin,
            "billing_period_to": last,
            "payment_frequency": contract.frequency,
            "creation_date": booked,
            "collection_batch_number": f"{self.agency}{booked:%Y%m}",
            "currency": "EUR",
            "total_premium_net": net,
            "insurance_tax": tax,
            "fee": Decimal("0.00"),
            "total_premium_gross": gross,
            "total_commission": commission,
        }
        settled = gross - commission if contract.collection == "1" else -commission
        second: dict[str, object] = {
            **head,
            "insurer_reference_number": f"{contract.vsnr}{begin:%m%y}",
            "policyholder_name": contract.person.list_name[:30],
            "settlement_amount": settled,
            "currency": "EUR",
        }
        records: list[_Planned] = [(("0400", "", "", 1), first), (("0400", "", "", 2), second)]
        for sparte, part_net, part_tax, part_commission in lines:
            records.append(
                (
                    ("0410", "", "", 1),
                    {
                        **head,
                        "line_of_business": sparte,
                        "billing_period_from": begin,
                        "billing_period_to": last,
                        "sub_line_premium_net": part_net,
                        "sub_line_tax": part_tax,
                        "sub_line_tax_rate": rate * 100,
                        "commissionable_amount_1": part_net,
                        "commission_rate_1": commission_rate * 100,
                        "sub_line_commission_1": part_commission,
                        "commission_type_1": "1",
                    },
                )
            )
        if tax and self.chance(0.3):
            records.append(
                (
                    ("0420", "", "", 1),
                    {
                        **head,
                        "seq_number": "01",
                        "tax_type": "VSt",
                        "tax_category": "001",
                        "tax_rate": rate * 100,
                        "taxable_amount": net,
                        "tax_amount": tax,
                        "currency": "EUR",
                        "tax_paid_by": "1",
                    },
                )
            )
        if refund or self.chance(0.1):
            text = "Rückerstattung nach Vertragsbeendigung" if refund else "Beitrag gemäß Beitragsanpassung"
            records.append(
                (
                    ("0430", "", "", 1),
                    {
                        **head,
                        "text_type_1": "1",
                        "text_1": text,
                        "text_type_2": "2",
                        "text_2": f"Zeitraum {begin:%d.%m.%Y} bis {last:%d.%m.%Y}",
                    },
                )
            )
        return records
