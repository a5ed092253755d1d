"""The SQLite document store: the journal in the inbox that makes fetching crash-safe.

R+V delivers documents through the TransferService *instead of* by post, and a
shipment that was acknowledged is gone from the mailbox. So the order is fixed:

1. (download to the spool: nothing recorded yet, the shipment is still in the mailbox);
2. ``storing``      - every document has its final path and sha256 recorded (one transaction);
   then each file is moved into place atomically (temp file, fsync, rename, fsync dir);
3. ``stored``       - all files are durable; only now may the shipment be acknowledged.
   A fetch that acknowledges does not record this step on its own: the files are
   durable, the acknowledgement goes out, and step 4 records both;
4. ``acknowledged`` - the server confirmed the acknowledgement.
``failed`` records the last error of a shipment that was not stored.

A crash anywhere leaves a state from which a rerun continues without losing or
duplicating a document: ``stored`` shipments are acknowledged without downloading
again; ``storing`` (or ``failed``) shipments whose planned files are all present with
the recorded hash are marked ``stored`` (and acknowledged); anything else is downloaded
again into the *same* planned paths.
The database runs in WAL mode. The plan is committed with ``synchronous=FULL`` (it
survives power loss, and it must exist before any file appears in the inbox); the
later states are committed without an fsync of their own, because a power loss that
takes them back only returns the shipment to a state the rerun completes from the
files on disk (and the next durable commit carries them to disk anyway).

The journal lives in ``<inbox>/.bipro-ruv/journal.sqlite3`` (:func:`journal_path`); every
row is keyed by account (profile, user id, shipment ID). Journals of older versions are
migrated when opened (:mod:`._schema`). Every failure of the database leaves
:class:`SqliteStore` as a :class:`~bipro_ruv.errors.JournalError` naming the journal's path.

This package is the only place in bipro-ruv that imports ``sqlite3`` or writes SQL.
"""

from bipro_ruv.store.sqlite._schema import SCHEMA_VERSION
from bipro_ruv.store.sqlite._store import ACK_BATCH, SqliteStore, journal_path

__all__ = ["ACK_BATCH", "SCHEMA_VERSION", "SqliteStore", "journal_path"]
