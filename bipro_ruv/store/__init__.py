"""The document store: what was fetched, per account, and how far each shipment got.

:mod:`.protocol` is the interface (:class:`DocumentStore`), its records and the
:class:`Account` in every key; :mod:`.sqlite` is the first implementation, the journal
``<inbox>/.bipro-ruv/journal.sqlite3`` that :meth:`bipro_ruv.Client.fetch_open_documents`
opens by default. Nothing outside :mod:`.sqlite` knows SQL, so a PostgreSQL store is one
more module here (``store/postgres.py``). The store sits below the services: it imports
none of them, and knows no domain rules (a VSNR is a string here).
"""

from bipro_ruv.store.protocol import (
    DEFAULT_CONSUMER,
    STATE_DIR,
    UNKNOWN_USER,
    Account,
    DocumentRecord,
    DocumentStore,
    ShipmentInfo,
    ShipmentRecord,
    ShipmentState,
    path_key,
)
from bipro_ruv.store.sqlite import SqliteStore

__all__ = [
    "DEFAULT_CONSUMER",
    "STATE_DIR",
    "UNKNOWN_USER",
    "Account",
    "DocumentRecord",
    "DocumentStore",
    "ShipmentInfo",
    "ShipmentRecord",
    "ShipmentState",
    "SqliteStore",
    "path_key",
]
