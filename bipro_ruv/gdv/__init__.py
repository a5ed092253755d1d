"""GDV data: Bestand and Inkasso files (VU-Vermittler Datensatz) as contract objects.

Releases 2009, 2013, 2015, 2018 and 2023 of the GDV's "VU-Vermittler" format; the Vorsatz
versions choose the layout per Datenpaket. Two ways in:

* :func:`parse` reads a file into memory (:class:`GdvFile`: Datenpakete -> contracts);
* :func:`iter_contracts` / :class:`GdvReader` stream the contracts of a file of any size
  in bounded memory;
* ``client.gdv`` (:class:`GdvService`) fetches the GDV shipments of the mailbox and parses them;
* :func:`write_json` / :func:`write_csv` export contracts for an MVP's import.

Each field is decoded by a compiled decoder (C, built at install time where a compiler is
there: :data:`ACCELERATED`) or by the pure-Python one, with the same values.

Damage inside a file is a :class:`GdvWarning` on the result, never an exception; input
that is not a GDV file raises :class:`~bipro_ruv.errors.GdvFormatError`.
"""

from bipro_ruv.gdv.export import contract_to_json, write_csv, write_json
from bipro_ruv.gdv.layouts import ACCELERATED, Field, Layout, Part
from bipro_ruv.gdv.parser import DEFAULT_ENCODING, GdvFile, GdvReader, iter_contracts, parse
from bipro_ruv.gdv.records import Contract, Nachsatz, Packet, RawRecord, Record, Vorsatz
from bipro_ruv.gdv.service import GdvDelivery, GdvService
from bipro_ruv.gdv.values import FieldValue, GdvWarning, InvalidValue, PartialDate

__all__ = [
    "ACCELERATED",
    "Contract",
    "DEFAULT_ENCODING",
    "Field",
    "FieldValue",
    "GdvDelivery",
    "GdvFile",
    "GdvReader",
    "GdvService",
    "GdvWarning",
    "InvalidValue",
    "Layout",
    "Nachsatz",
    "Packet",
    "Part",
    "PartialDate",
    "RawRecord",
    "Record",
    "Vorsatz",
    "contract_to_json",
    "iter_contracts",
    "parse",
    "write_csv",
    "write_json",
]
