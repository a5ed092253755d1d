"""R+V's data packages: the CSV files of the portal's download area and the transfer service.

:func:`read_package` reads any of them into typed rows keyed by a normalized VSNR:
Saldenbestätigung and Sammelabrechnung (the layouts of R+V's published legends,
:mod:`.legend`), the Courtageabrechnung of both LVRG generations, the
Bestandsübertragungsliste and the KFZ-Beitragsvergleich (assumed layouts, :mod:`.assumed`),
and the Condormigration-Vertragsliste (:mod:`.condor`). :mod:`.csvreader` is the one reader
behind them all (encoding, delimiter, quoting, German numbers and dates found, columns by
name); :mod:`.export` writes a package to xlsx, CSV or JSON; ``client.datapackages``
(:mod:`.service`) finds them among fetched documents; ``bipro-ruv csv FILE`` reads one.
"""

from bipro_ruv.datapackages.assumed import LVRG, PRE_LVRG, CourtageRow, KfzComparisonRow, TransferRow
from bipro_ruv.datapackages.codes import Abrechnungsmodus, Buchungsart, Kategorie, Mahnverfahren
from bipro_ruv.datapackages.condor import (
    CondorMigration,
    MigrationList,
    MigrationRowError,
    parse_migration_list,
    read_migration_list,
)
from bipro_ruv.datapackages.csvreader import CsvWarning, parse_amount, parse_date
from bipro_ruv.datapackages.model import Package, PackageRow, PackageType
from bipro_ruv.datapackages.packages import (
    LAYOUTS,
    TYPES,
    SaldenRow,
    SammelRow,
    balance_of_month,
    detect_kind,
    read_package,
)

__all__ = [
    "LAYOUTS",
    "LVRG",
    "PRE_LVRG",
    "TYPES",
    "Abrechnungsmodus",
    "Buchungsart",
    "CondorMigration",
    "CourtageRow",
    "CsvWarning",
    "Kategorie",
    "KfzComparisonRow",
    "Mahnverfahren",
    "MigrationList",
    "MigrationRowError",
    "Package",
    "PackageRow",
    "PackageType",
    "SaldenRow",
    "SammelRow",
    "TransferRow",
    "balance_of_month",
    "detect_kind",
    "parse_amount",
    "parse_date",
    "read_migration_list",
    "parse_migration_list",
    "read_package",
]
