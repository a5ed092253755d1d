"""GDV VU-Vermittler files (Bestand and Inkasso): our own writer, for the sandbox, tests and benchmark.

Physical format (gdv-format.md §1.1): records (Teildatensätze) of exactly 256 bytes, each followed by LF, CRLF
or nothing; the encoding is not declared in the file (ISO-8859-15 by default; CP850 and UTF-8 also written,
field widths always counted in bytes). Positions are 1-based byte columns, inclusive, as in the GDV handbook.

Three layers, one module each (and the sandbox mailbox's seeded files in :mod:`.seeded`):

* :func:`encode_record` / :func:`encode_record_bytes`: one record of any layout the parser knows
  (:func:`bipro_ruv.gdv.layouts.layouts_of`, releases 2009-2023), from a dict of field values. A value that
  does not fit raises :class:`ValueError`; the writer never cuts. :func:`expected_values` says what a reader
  must decode from it (the ground truth of a round trip).
* :class:`GdvWriter`: Datenpakete record by record to a sink, in bounded memory: the Vorsatz (0001, every
  Teildatensatz) states the release's version of each Satzart, the Nachsatz (9999) counts the records between
  Vorsatz and Nachsatz and sums the 0200 Teildatensatz 1 Gesamtbeitrag (Netto) and the 0400 Brutto and
  Provision.
* :func:`generate_gdv`, :func:`generate_gdv_with_truth` and :func:`write_gdv`: realistic R+V files from one
  seed (Leben with its Wagnisarten and fund records, Unfall, Haftpflicht, Kfz, Hausrat, Wohngebäude,
  Beteiligung 0300, Inkasso 0400-0430 with signed amounts, cancelled contracts, the 2024 merger). Drawing
  a contract afresh is the slow part (Python, ~200 µs); ``distinct`` below 1 repeats recent customers'
  records under new VSNRs instead, which is how :func:`write_gdv` (``distinct=0.25``) reaches the speed a
  benchmark file of 100 MB and more needs.

:func:`bestand_file` and :func:`inkasso_file` write the small files of the sandbox mailbox from its seeded
"""

from bipro_ruv.sandbox.content.gdv_writer.encoding import (
    WrittenRecord,
    encode_record,
    encode_record_bytes,
    expected_values,
    fixed_fields,
    partial_date,
)
from bipro_ruv.sandbox.content.gdv_writer.generate import (
    GeneratedFile,
    generate_gdv,
    generate_gdv_with_truth,
    write_gdv,
)
from bipro_ruv.sandbox.content.gdv_writer.packets import GdvWriter
from bipro_ruv.sandbox.content.gdv_writer.people import VU_SENDERS, Kind
from bipro_ruv.sandbox.content.gdv_writer.seeded import (
    DEFAULT_CREATED,
    DEFAULT_ENCODING,
    ENCODING,
    LINE_END,
    RECORD_LENGTH,
    bestand_file,
    inkasso_file,
    installment_period,
)

__all__ = [
    "DEFAULT_CREATED",
    "DEFAULT_ENCODING",
    "ENCODING",
    "LINE_END",
    "RECORD_LENGTH",
    "VU_SENDERS",
    "GdvWriter",
    "GeneratedFile",
    "Kind",
    "WrittenRecord",
    "bestand_file",
    "encode_record",
    "encode_record_bytes",
    "expected_values",
    "fixed_fields",
    "generate_gdv",
    "generate_gdv_with_truth",
    "inkasso_file",
    "installment_period",
    "partial_date",
    "write_gdv",
]
