"""Unfall (030), Haftpflicht (040), Hausrat (130) and Wohngebäude (140) records of the realistic generator."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bipro_ruv.sandbox.content.gdv_writer.book_base import BookBase
from bipro_ruv.sandbox.content.gdv_writer.people import (
    _ACCIDENT_BENEFITS,
    _BUILDING_EXTRAS,
    _BUILDINGS,
    _CENT,
    _HOUSEHOLD_COVERS,
    _LIABILITY_RISKS,
    _OCCUPATIONS,
    _Contract,
    _Planned,
)


class SachParts(BookBase):
    """Unfall, Haftpflicht, Hausrat and Wohngebäude records."""

    def unfall(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        records: list[_Planned] = []
        total = Decimal("0.00")
        for seq in range(1, 2 + int(self.rng.random() * 3)):
            person = contract.person if seq == 1 and contract.person.name_3 else self.person()
            premium = self.money(60, 400)
            total += premium
            number = f"{seq:06d}"
            insured = {**head, "insured_person_or_group_seq": number}
            records.append(
                (
                    ("0220", "030", "", 1),
                    {
                        **insured,
                        "insured_person_name": person.name_1,
                        "insured_person_first_name": person.name_3,
                        "insured_person_birth_date": person.birth_date,
                        "insured_person_gender": person.gender,
                        "occupation_text": self.pick(_OCCUPATIONS),
                        "hazard_group": self.pick(("A", "B")),
                        "currency": "EUR",
                        "premium_per_person_or_group": premium,
                        "person_inclusion_date": contract.start,
                    },
                )
            )
            disability = 50_000 + int(self.rng.random() * 40) * 10_000
            records.append(
                (
                    ("0220", "030", "", 2),
                    {
                        **insured,
                        "death": f"{disability // 5:09d}",
                        "death_premium_rate": Decimal("0.52000"),
                        "disability": f"{disability:09d}",
                        "progressive_disability_flag": "1",
                        "hospital_daily_allowance": Decimal("30.0"),
                        "additional_record_id": "X",
                    },
                )
            )
            if self.chance(0.4):
                records.append(
                    (
                        ("0220", "030", "", 3),
                        # A 5-character VP number: col 49 (the Satznummer column of TD 1/2/4) stays blank.
                        {
                            **head,
                            "insured_person_insurer_number": f"{seq:05d}",
                            "death_premium": (premium / 4).quantize(_CENT),
                            "disability_premium": (premium / 2).quantize(_CENT),
                            "insured_person_or_group_seq": number,
                        },
                    )
                )
            if contract.vsnr.startswith("15") and self.chance(0.6):
                records.append(
                    (
                        ("0220", "030", "", 4),
                        {
                            **insured,
                            "premium_payment_until": contract.end,
                            "refund_sum_at_expiry": self.money(2000, 20000),
                        },
                    )
                )
            if self.chance(0.15):
                heir = self.person()
                records.append(
                    (
                        ("0220", "030", "", 9),
                        {
                            **head,
                            "insured_person_or_group_seq_9": number,
                            "record_type_seq": "01",
                            "beneficiary_on_benefit": "1",
                            "other_beneficiary_on_benefit": f"{heir.name_3} {heir.name_1}",
                            "beneficiary_share_on_benefit": Decimal("100.00"),
                            "insured_person_or_group_seq": number,
                        },
                    )
                )
            if self.chance(0.25):
                records.append(
                    (
                        ("0221", "030", "", 2),
                        {**insured, "death": Decimal(disability // 5), "disability": Decimal(disability)},
                    )
                )
            if self.chance(0.3):
                code, name = self.pick(_ACCIDENT_BENEFITS)
                records.append(
                    (
                        ("0230", "030", "", 1),
                        {
                            **insured,
                            "benefit_type": code,
                            "benefit_description": name,
                            "benefit_type_seq": "001",
                            "benefit_amount": Decimal(disability),
                            "premium": (premium / 2).quantize(_CENT),
                        },
                    )
                )
        contract.premiums["030"] = total
        general: dict[str, object] = {
            **head,
            "contract_status": contract.status,
            "inception_date": contract.start,
            "exclusion_date": contract.cancelled if type(contract.cancelled) is date else None,
            "general_conditions": "2020",
            "indexation": "1",
            "indexation_pct": Decimal("5.000"),
            "currency": "EUR",
            "total_premium": total,
            "tariff_name": "Unfall-Tarif 2020",
            "product_name": contract.product,
        }
        return [(("0210", "030", "", 1), general), *records]

    def haftpflicht(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        millions = self.pick((5, 10, 15, 50))
        records: list[_Planned] = []
        total = Decimal("0.00")
        for number in range(1, 2 + int(self.rng.random() * 2)):
            code, text = self.pick(_LIABILITY_RISKS)
            premium = self.money(40, 900)
            total += premium
            risk = {**head, "risk_type": code, "risk_addition_number": f"{number:02d}"}
            records.append(
                (
                    ("0220", "040", "", 1),
                    {
                        **risk,
                        "calculation_unit": "001",
                        "risk_quantity": "000000000001",
                        "currency": "EUR",
                        "premium_per_unit": premium,
                        "total_premium": premium,
                        "inception_date": contract.start,
                    },
                )
            )
            if self.chance(0.5):
                records.append(
                    (
                        ("0220", "040", "", 2),
                        {
                            **head,
                            "risk_type": code,
                            "risk_part_number": f"{number:02d}",
                            "risk_text": text,
                            "risk_postcode": contract.person.postcode,
                            "risk_city": contract.person.city,
                            "risk_street": contract.person.street,
                        },
                    )
                )
            if self.chance(0.2):
                records.append(
                    (("0221", "040", "", 1), {**risk, "cover_limit_1": Decimal(millions * 1_000_000)})
                )
        contract.premiums["040"] = total
        general: dict[str, object] = {
            **head,
            "contract_status": contract.status,
            "inception_date": contract.start,
            "sum_type_1": "1",
            "currency_1": "EUR",
            "cover_limit_1_thousands": f"{millions * 1000:09d}",
            "general_conditions": "2016",
            "currency": "EUR",
            "total_premium": total,
            "product_name": contract.product,
        }
        records[:0] = [(("0210", "040", "", 1), general)]
        if self.chance(0.2):
            records.insert(
                1, (("0211", "040", "", 1), {**head, "cover_limit_1": Decimal(millions * 1_000_000)})
            )
        return records

    # Hausrat (130): Satznummer at col 251, Objektnummer at 252-256; 0211/0220/0221 have no Satznummer.

    def hausrat(self, contract: _Contract) -> list[_Planned]:
        head = {**self.key_head, "object_number": "00001"}
        area = 40 + int(self.rng.random() * 160)
        sum_insured = area * 650
        records: list[_Planned] = []
        total = Decimal("0.00")
        for seq, cover in enumerate(
            ("Hausrat-Grunddeckung", *(c for c in _HOUSEHOLD_COVERS if self.chance(0.25))), 1
        ):
            premium = self.money(15, 250)
            total += premium
            records.append(
                self.fit(  # release 2009 has no additional_cover_name
                    ("0220", "130", "", 1),
                    {
                        **head,
                        "inception_date": contract.start,
                        "sum_type": "001",
                        "current_rate_per_mille": Decimal("1.250"),
                        "sum_insured_or_indemnity_limit": f"{sum_insured:012d}",
                        "premium": premium,
                        "peril_seq": f"{seq:06d}",
                        "additional_cover_name": cover,
                    },
                )
            )
            if self.chance(0.2):
                records.append(
                    (
                        ("0221", "130", "", 1),
                        {
                            **head,
                            "sum_type": "001",
                            "sum_insured_or_indemnity_limit": Decimal(sum_insured),
                            "peril_seq": f"{seq:06d}",
                        },
                    )
                )
        contract.premiums["130"] = total
        general: dict[str, object] = {
            **head,
            "contract_status": contract.status,
            "inception_date": contract.start,
            "risk_postcode": contract.person.postcode,
            "risk_city": contract.person.city,
            "risk_street": contract.person.street,
            "currency": "EUR",
            "total_sum_insured": f"{sum_insured:012d}",
            "total_premium": total,
            "living_area_sqm": f"{area:05d}",
            "tariff_zone": str(1 + int(self.rng.random() * 4)),
        }
        head_records: list[_Planned] = [(("0210", "130", "", 1), general)]
        if self.chance(0.4):
            head_records.append((("0210", "130", "", 2), {**head, "product_name": contract.product}))
        if self.chance(0.2):
            head_records.append((("0211", "130", "", 1), {**head, "total_sum_insured": Decimal(sum_insured)}))
        return head_records + records

    def wohngebaeude(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        base = 15_000 + int(self.rng.random() * 60) * 1000  # Versicherungssumme 1914 in Mark
        index = Decimal("2431.4")
        current = int(base * index / 100)
        premium = self.money(250, 2200)
        contract.premiums["140"] = premium
        risk = {**head, "risk_number": "0001", "object_number": "0001"}
        records: list[_Planned] = [
            (
                ("0210", "140", "", 1),
                {
                    **head,
                    "contract_status": contract.status,
                    "inception_date": contract.start,
                    "currency": "EUR",
                    "total_sum_insured": f"{current:012d}",
                    "total_premium": premium,
                    "conditions": "2022",
                    "product_name": contract.product,
                    "conditions_name": "VGB 2022 Wert 1914",
                },
            ),
            (
                ("0220", "140", "", 1),
                {
                    **risk,
                    "inception_date": contract.start,
                    "risk_country": "D",
                    "risk_postcode": contract.person.postcode,
                    "risk_city": contract.person.city,
                    "risk_street": contract.person.street,
                    "storm_zone": str(1 + int(self.rng.random() * 4)),
                    "construction_class": "1",
                    "year_built": str(1900 + int(self.rng.random() * 124)),
                    "storeys": "02",
                    "dwelling_unit_count": "001",
                },
            ),
            (
                ("0220", "140", "", 2),
                {
                    **risk,
                    "object_description": self.pick(_BUILDINGS),
                    "sum_type": "001",
                    "base_year": "1914",
                    "base_sum_insured": f"{base:012d}",
                    "construction_price_index": index,
                    "current_sum_insured": f"{current:012d}",
                    "premium_rate": Decimal("0.950"),
                    "current_premium": premium,
                    "natural_hazards": self.pick(("J", "N")),
                },
            ),
        ]
        if self.chance(0.2):
            records.insert(1, (("0211", "140", "", 1), {**head, "total_sum_insured": Decimal(current)}))
        if self.chance(0.2):
            records.append(
                (
                    ("0221", "140", "", 2),
                    {**risk, "base_sum_insured": Decimal(base), "current_sum_insured": Decimal(current)},
                )
            )
        if self.chance(0.25) and self.has(("0230", "140", "", 1)):
            records.append(
                (
                    ("0230", "140", "", 1),
                    {
                        **head,
                        "ref_risk_number": "0001",
                        "ref_object_number": "0001",
                        "additional_cover_seq": "001",
                        "additional_cover_name": self.pick(_BUILDING_EXTRAS),
                        "sum_insured_or_indemnity_limit": f"{25_000:012d}",
                        "premium": self.money(10, 90),
                    },
                )
            )
        return records
