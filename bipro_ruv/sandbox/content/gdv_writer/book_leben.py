"""Leben (010) records of the realistic generator: Wagnisarten with their extension parts, fund records."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bipro_ruv.gdv.layouts import WAGNISART_GROUPS
from bipro_ruv.sandbox.content.gdv_writer.book_base import BookBase
from bipro_ruv.sandbox.content.gdv_writer.people import (
    _FUNDS,
    _LEBEN_MAIN,
    _LEBEN_RIDERS,
    _OCCUPATIONS,
    _Contract,
    _isin,
    _Planned,
)


class LebenParts(BookBase):
    """Leben records."""

    def leben(self, contract: _Contract) -> list[_Planned]:
        head = self.key_head
        main = self.pick(_LEBEN_MAIN)
        monthly = self.money(25, 400)
        annual = monthly * 12
        contract.premiums["010"] = annual
        records: list[_Planned] = [
            (
                ("0210", "010", "", 1),
                {
                    **head,
                    "currency": "EUR",
                    "contract_form": "1",
                    "acquisition_commission": Decimal("25.00"),
                    "payment_start_date": contract.start,
                },
            ),
        ]
        if self.chance(0.4):
            records.append(
                (
                    ("0210", "010", "", 2),
                    {**head, "product_name": contract.product, "capital_gains_tax_liable": "J"},
                )
            )
        insured = contract.person if contract.person.name_3 else self.person()
        records.append(
            (
                ("0220", "010", "0", 1),
                {
                    **head,
                    "insured_person_seq": "1",
                    "risk_type": "0",
                    "insured_person_name": insured.name_1,
                    "insured_person_first_name": insured.name_3,
                    "insured_person_birth_date": insured.birth_date,
                    "insured_person_gender": insured.gender,
                    "occupation_text": self.pick(_OCCUPATIONS),
                },
            )
        )
        records += self.wagnis(main, contract, monthly, rider=False)
        if self.chance(0.35):
            records += self.wagnis(self.pick(_LEBEN_RIDERS), contract, self.money(5, 60), rider=True)
        if main in ("7", "9"):
            for seq in range(1, 2 + int(self.rng.random() * 3)):
                fund_name = self.pick(_FUNDS)
                records.append(
                    (
                        ("0230", "010", "", 1),
                        {
                            **head,
                            "insured_person_seq": "1",
                            "risk_type": main,
                            "risk_type_seq": "1",
                            "fund_seq": f"{seq:04d}",
                            "wkn": f"A{self.digits(5)}",
                            "isin": _isin(f"DE000A{self.digits(5)}"),
                            "fund_name": fund_name,
                            "units": Decimal(int(self.rng.random() * 10**9)).scaleb(-6),
                            "valuation_date": self.created,
                            "allocation_pct": Decimal("25.0000"),
                        },
                    )
                )
        if self.chance(0.2):
            records.append((("0211", "010", "", 1), {**head, "future_total_premium": annual}))
        return records

    def wagnis(self, wagnisart: str, contract: _Contract, monthly: Decimal, *, rider: bool) -> list[_Planned]:
        group = WAGNISART_GROUPS[wagnisart]
        head: dict[str, object] = {
            **self.key_head,
            "insured_person_seq": "1",
            "risk_type": wagnisart,
            "risk_type_seq": "1",
        }
        term = (contract.end.year - contract.start.year) if contract.end else 30
        first: dict[str, object] = {
            **head,
            "inception_date": contract.start,
            "expiry_date": contract.end,
            "contract_term": f"{term:03d}",
            "contract_type": "1",
            "status": "1" if contract.status == "1" else "4",
        }
        sums = 10_000 + int(self.rng.random() * 400) * 1000
        if group == "13":
            first.update(
                premium=monthly,
                survival_sum_at_expiry=str(sums),
                death_sum_at_expiry=str(sums),
                tariff_name=f"L{wagnisart}K{self.digits(2)}",
            )
        elif group == "2":
            first.update(
                premium=monthly,
                tariff_name=f"R2{self.digits(3)}",
                annual_pension=self.money(1200, 24000),
                pension_start_date=contract.end,
            )
        elif group == "48":
            first.update(
                occ_disability_premium=monthly,
                net_premium=monthly,
                annual_pension=self.money(6000, 36000),
            )
        elif group == "5":
            first.update(premium=monthly, sum_insured=str(sums), net_premium=monthly)
        elif group == "6":
            first.update(premium=monthly, accident_sum=str(sums), net_premium=monthly)
        elif group == "7":
            first.update(
                premium=monthly,
                premium_sum=str(sums),
                death_sum_insured=str(sums),
                tariff_name=f"FL7{self.digits(2)}",
            )
        else:
            first.update(
                premium=monthly,
                tariff_name=f"FR9{self.digits(2)}",
                annual_pension=self.money(1200, 24000),
                pension_start_date=contract.end,
                surrender_value=self.money(0, 80000),
            )
        records: list[_Planned] = [(("0220", "010", group, 1), first)]
        second: dict[str, object] = {**head, "indexation_start": contract.start}
        if group in ("48", "5", "6"):
            second["tariff_name"] = f"Z{wagnisart}{self.digits(3)} Zusatzversicherung"
        elif not rider:
            second["future_premium_amount"] = monthly
        records.append((("0220", "010", group, 2), second))
        if not rider:
            if group == "13" and self.chance(0.3):
                records.append(
                    (("0220", "010", group, 3), {**head, "survival_sum_at_call_off": Decimal(sums)})
                )
            elif group in ("7", "9") and self.chance(0.5):
                strategy = {"investment_strategy": self.pick(("Chance", "Balance", "Sicherheit"))}
                records.append((("0220", "010", group, 3), {**head, **strategy}))
            if group == "9" and self.chance(0.3) and self.has(("0220", "010", "9", 4)):
                records.append(
                    self.fit(("0220", "010", "9", 4), {**head, "retirement_assets": self.money(1000, 90000)})
                )
        for part in (6, 7, 8, 9):
            key = ("0220", "010", group, part)
            if self.has(key) and self.chance(0.15):
                records.append((key, self.extension(part, head, contract)))
        extension = ("0221", "010", group, 1)
        if self.has(extension) and self.chance(0.3) and group in ("13", "7"):
            records.append((extension, {**head, "death_sum_insured": Decimal(sums)}))
        elif self.has(extension) and self.chance(0.3) and group in ("2", "13", "7"):
            records.append((extension, {**head, "surrender_value": self.money(0, 50000)}))
        return records

    def extension(self, part: int, head: dict[str, object], contract: _Contract) -> dict[str, object]:
        layout = self.layouts[("0220", "010", WAGNISART_GROUPS[str(head["risk_type"])], part)]
        values: dict[str, object] = {**head, "record_type_seq": "01"}
        if part == 6:
            heir = self.person()
            for when in ("death", "benefit", "survival"):
                values[f"beneficiary_on_{when}"] = "1"
                values[f"other_beneficiary_on_{when}"] = f"{heir.name_3} {heir.name_1}"
                values[f"beneficiary_share_on_{when}"] = Decimal("100.00")
        elif part == 7:
            values["next_payout_date"] = date(self.created.year + 1, 1, 1)
            values["payout_count"] = "01"
        elif part == 8:
            values["death_benefit_change"] = "1"
            values["death_change_interval"] = "012"
            values["death_change_pct"] = Decimal("5.00")
        else:
            values["commissionable_premium_sum"] = self.money(1000, 90000)
            values["liability_from"] = contract.start
            values["liability_to"] = contract.end
        names = layout.index
        return {name: value for name, value in values.items() if name in names}
