"""Kfz (050-055) records of the realistic generator: 0210/0211.050 and the 0220/0221.05x parts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bipro_ruv.sandbox.content.gdv_writer.book_base import BookBase
from bipro_ruv.sandbox.content.gdv_writer.people import (
    _PLATE_AREAS,
    _VEHICLES,
    _VIN_CHARS,
    _Contract,
    _Planned,
)


class KfzParts(BookBase):
    """Kfz records."""

    def kfz(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        maker, model, hsn, tsn, power = self.pick(_VEHICLES)
        registered = self.day(date(2008, 1, 1), self.created)
        letters = "".join(chr(65 + int(self.rng.random() * 26)) for _ in range(2))
        plate = f"{self.pick(_PLATE_AREAS)}-{letters} {1 + int(self.rng.random() * 9998)}"
        vin = "W" + "".join(self.rng.choices(_VIN_CHARS, k=16))
        parts = ["051"]
        casco = self.rng.random()
        if casco < 0.45:
            parts.append("052")
        elif casco < 0.75:
            parts.append("053")
        if self.chance(0.05):
            parts.append("054")
        if self.chance(0.25):
            parts.append("055")
        records: list[_Planned] = []
        for part in parts:
            premium = Decimal(int(self.rng.random() * 9000) + 300).scaleb(-1)  # F8.1: one decimal
            contract.premiums[part] = premium
            records += self.kfz_part(part, premium, contract)
        if self.chance(0.03) and self.has(("0230", "050", "", 1)):
            records.append(
                (
                    ("0230", "050", "", 1),
                    {**head, "licence_plate": plate, "plate_type": "01", "insurer": contract.vu},
                )
            )
        vehicle: dict[str, object] = {
            **head,
            "vehicle_risk_code": "112",
            "engine_power": power,
            "manufacturer_name": maker,
            "model_name": model,
            "manufacturer_code_hsn": hsn,
            "type_code_tsn": tsn,
            "vin": vin,
            "licence_plate": plate,
            "first_registration_date": registered,
            "new_price": f"{20_000 + int(self.rng.random() * 60_000):07d}",
            "currency": "EUR",
            "total_premium": contract.premium,
            "insurer_customer_number": contract.customer_number,
        }
        head_records: list[_Planned] = [(("0210", "050", "", 1), vehicle)]
        if self.chance(0.5):
            head_records.append(
                (
                    ("0210", "050", "", 2),
                    {
                        **head,
                        "vehicle_type": "Personenkraftwagen",
                        "annual_mileage": f"{self.pick((9, 12, 15, 20, 25)):03d}000",
                        "garage": "01",
                        "product_name": contract.product,
                        "cover_start_date": contract.start,
                    },
                )
            )
        if self.chance(0.15):
            head_records.append((("0211", "050", "", 1), {**head, "new_price": self.money(20_000, 80_000)}))
        return head_records + records

    def kfz_part(self, part: str, premium: Decimal, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        start = contract.start
        if part == "051":
            first: dict[str, object] = {
                **head,
                "mtpl_start_date": start,
                "mtpl_tariff_group": "R8",
                "mtpl_cover_type": "01",
                "mtpl_no_claims_class": f"SF{1 + int(self.rng.random() * 35)}",
                "mtpl_premium_rates": "045",
                "mtpl_premium": premium,
                "akb_conditions": "2015",
                "commission": Decimal("6.00"),
                "tariff": "KH-2025",
            }
            extension: dict[str, object] = {**head, "mtpl_premium": premium}
        elif part == "052":
            first = {
                **head,
                "full_casco_start_date": start,
                "full_casco_tariff_group": "R8",
                "full_casco_cover_type": "01",
                "full_casco_no_claims_class": f"SF{1 + int(self.rng.random() * 35)}",
                "full_casco_premium": premium,
                "full_casco_type_class": "22",
                "full_casco_agreed_deductible": "0000000300",
                "tariff": "VK-2025",
            }
            extension = {
                **head,
                "full_casco_premium": premium,
                "full_casco_agreed_deductible": Decimal("300.00"),
            }
        elif part == "053":
            first = {
                **head,
                "partial_casco_start_date": start,
                "partial_casco_tariff_group": "R8",
                "partial_casco_cover_type": "01",
                "partial_casco_premium": premium,
                "partial_casco_type_class": "19",
                "partial_casco_agreed_deductible": "0000000150",
            }
            extension = {
                **head,
                "partial_casco_premium": premium,
                "partial_casco_agreed_deductible": Decimal("150.00"),
            }
        elif part == "054":
            first = {
                **head,
                "motor_accident_start_date": start,
                "motor_accident_cover_risk_1": "1",
                "death_risk_1": "0010",
                "disability_risk_1": "0020",
                "motor_accident_premium": premium,
            }
            extension = {**head, "death_risk_1": Decimal("10000.00"), "motor_accident_premium": premium}
        else:
            first = {
                **head,
                "module_code": "SB",
                "module_name": self.pick(("Schutzbrief", "Fahrerschutz", "Auslandsschaden")),
                "module_start_date": start,
                "currency": "EUR",
                "premium": premium,
                "ref_sub_line": "051",
            }
            extension = {**head, "premium": premium, "ref_sub_line": "051"}
        records: list[_Planned] = [(("0220", part, "", 1), first)]
        if self.chance(0.3):
            second: dict[str, object] = {**head, "insured_perils": "Feuer, Diebstahl, Glasbruch"}
            if part == "055":
                second["ref_sub_line"] = "051"
            else:
                second["territorial_scope"] = "Europa"
            records.append((("0220", part, "", 2), second))
        if self.chance(0.25):
            records.append((("0221", part, "", 1), extension))
        return records
