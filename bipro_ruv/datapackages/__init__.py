"""R+V's data packages: the CSV files of the portal's download area and the transfer service.

:func:`read_package` reads a Saldenbestätigung or a Sammelabrechnung (the layouts of R+V's
published legends) into typed rows keyed by a normalized VSNR; :mod:`.csvreader` is the one
reader behind them (encoding, delimiter, quoting, German numbers and dates found, columns by
name). The other packages (Courtage, Condor migration list, Bestandsübertragungsliste,
KFZ-Beitragsvergleich), the xlsx export, ``client.datapackages`` and ``bipro-ruv csv`` are
not built yet (issue 13).
"""

from bipro_ruv.datapackages.codes import Abrechnungsmodus, Buchungsart, Kategorie, Mahnverfahren
from bipro_ruv.datapackages.csvreader import CsvWarning, parse_amount, parse_date
from bipro_ruv.datapackages.packages import (
    LAYOUTS,
    Package,
    SaldenRow,
    SammelRow,
    balance_of_month,
    detect_kind,
    read_package,
)

__all__ = [
    "LAYOUTS",
    "Abrechnungsmodus",
    "Buchungsart",
    "CsvWarning",
    "Kategorie",
    "Mahnverfahren",
    "Package",
    "SaldenRow",
    "SammelRow",
    "balance_of_month",
    "detect_kind",
    "parse_amount",
    "parse_date",
    "read_package",
]
