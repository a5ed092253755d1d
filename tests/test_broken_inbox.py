"""A broken inbox gives a ``StorageError`` naming the path, from every public call and the CLI.

Before issue 10 these left the library as ``NotADirectoryError``, ``FileExistsError``,
``PermissionError``, ``sqlite3.DatabaseError``, ``RuntimeError`` or ``FileNotFoundError``,
and the CLI printed a traceback. Each case is made so that it breaks for root too (CI
runs as root, for whom a read-only folder is writable); the read-only folder itself is
checked where it can be.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bipro_ruv import Client, ContractIndex, JournalError, StorageError, read_migration_list
from bipro_ruv.sandbox import Sandbox
from bipro_ruv.store import STATE_DIR
from bipro_ruv.store.sqlite import SqliteStore, journal_path
from tests._cli import run_as
from tests._expected import ACCOUNT

# Nothing listens on port 9: a call that reached the network would fail differently.
NOWHERE = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Broken:
    """A broken inbox: the folder to pass, the error expected, and what its message says."""

    inbox: Path
    error: type[StorageError]
    says: str
    named: Path


def file_instead_of_folder(tmp: Path) -> Broken:
    inbox = tmp / "inbox"
    inbox.write_text("a file, not a folder")
    return Broken(inbox, StorageError, f"{inbox} is a file, not a folder", inbox)


def parent_is_a_file(tmp: Path) -> Broken:
    (tmp / "share").write_text("a file where a folder should be")
    inbox = tmp / "share" / "inbox"
    return Broken(inbox, StorageError, f"{tmp / 'share'} is a file, not a folder", tmp / "share")


def missing_parent(tmp: Path) -> Broken:
    # E.g. a network drive that is not mounted: the inbox is not made on the wrong disk.
    inbox = tmp / "not-mounted" / "inbox"
    return Broken(
        inbox, StorageError, f"the folder {tmp / 'not-mounted'} does not exist", tmp / "not-mounted"
    )


def read_only_folder(tmp: Path) -> Broken:
    inbox = tmp / "inbox"
    inbox.mkdir()
    inbox.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(inbox, os.W_OK):
        inbox.chmod(stat.S_IRWXU)
        pytest.skip("a read-only folder is writable for this user (root)")
    return Broken(inbox, StorageError, f"cannot write into {inbox}: permission denied", inbox)


def state_folder_is_a_file(tmp: Path) -> Broken:
    inbox = tmp / "inbox"
    inbox.mkdir()
    (inbox / STATE_DIR).write_text("not a folder")
    return Broken(inbox, StorageError, f"{inbox / STATE_DIR} is a file, not a folder", inbox / STATE_DIR)


def journal_not_sqlite(tmp: Path) -> Broken:
    inbox = tmp / "inbox"
    journal_path(inbox).parent.mkdir(parents=True)
    journal_path(inbox).write_bytes(b"Lieferungen 2024\n" * 512)
    return Broken(inbox, JournalError, "is not an SQLite database", journal_path(inbox))


def journal_is_a_folder(tmp: Path) -> Broken:
    inbox = tmp / "inbox"
    journal_path(inbox).mkdir(parents=True)
    return Broken(inbox, JournalError, "it is a folder, not a file", journal_path(inbox))


def journal_of_a_newer_version(tmp: Path) -> Broken:
    inbox = tmp / "inbox"
    journal_path(inbox).parent.mkdir(parents=True)
    with sqlite3.connect(journal_path(inbox)) as db:
        db.execute("PRAGMA user_version=99")
    db.close()
    return Broken(inbox, JournalError, "written by a newer bipro-ruv (schema 99)", journal_path(inbox))


FOLDERS = [file_instead_of_folder, parent_is_a_file, missing_parent, read_only_folder, state_folder_is_a_file]
JOURNALS = [journal_not_sqlite, journal_is_a_folder, journal_of_a_newer_version]
Breaker = Callable[[Path], Broken]


@pytest.fixture
def offline_client() -> Iterator[Client]:
    with Client("rom4711", "unused", base_url=NOWHERE) as client:
        yield client


@pytest.fixture(autouse=True)
def writable_again(tmp_path: Path) -> Iterator[None]:
    """pytest must be able to remove what a test made read-only."""
    yield
    for folder in [tmp_path, *tmp_path.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(stat.S_IRWXU)


def check(raised: pytest.ExceptionInfo[StorageError], broken: Broken) -> None:
    exc = raised.value
    assert type(exc) is broken.error
    assert broken.says in str(exc)
    assert "\n" not in str(exc)
    assert exc.path == broken.named


@pytest.mark.parametrize("make", FOLDERS + JOURNALS, ids=lambda make: make.__name__)
def test_fetch_open_documents(make: Breaker, offline_client: Client, tmp_path: Path) -> None:
    broken = make(tmp_path)
    with pytest.raises(StorageError) as raised:
        offline_client.fetch_open_documents(broken.inbox)
    check(raised, broken)


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (file_instead_of_folder, FileExistsError),
        (parent_is_a_file, NotADirectoryError),
        (journal_not_sqlite, sqlite3.DatabaseError),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_the_cause_is_chained(
    make: Breaker, cause: type[Exception], offline_client: Client, tmp_path: Path
) -> None:
    with pytest.raises(StorageError) as raised:
        offline_client.fetch_open_documents(make(tmp_path).inbox)
    assert isinstance(raised.value.__cause__, cause)


def test_fetch_creates_a_missing_inbox_but_not_its_parent(offline_client: Client, tmp_path: Path) -> None:
    broken = missing_parent(tmp_path)
    with pytest.raises(StorageError):
        offline_client.fetch_open_documents(broken.inbox)
    assert not broken.named.exists()


def test_a_file_in_place_of_the_inbox_is_left_alone(offline_client: Client, tmp_path: Path) -> None:
    broken = file_instead_of_folder(tmp_path)
    with pytest.raises(StorageError):
        offline_client.fetch_open_documents(broken.inbox)
    assert broken.inbox.read_text() == "a file, not a folder"


def refuse_folders_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operating system refuses to make a folder in ``folder``, as it does in a read-only
    folder for anyone but root (``os.mkdir``: ``Path.mkdir`` and ``tempfile`` both call it)."""
    make = os.mkdir

    def refused(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> None:
        if Path(path).parent == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        make(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refused)


def test_a_folder_it_may_not_write_into_even_as_root(
    offline_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a read-only inbox does for a normal user (root may write anywhere): the
    # operating system refuses to create the state folder in it.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    refuse_folders_in(inbox, monkeypatch)
    with pytest.raises(StorageError) as raised:
        offline_client.fetch_open_documents(inbox)
    assert str(raised.value) == f"cannot write into {inbox}: permission denied"
    assert raised.value.path == inbox


@pytest.mark.parametrize(
    "make", [file_instead_of_folder, parent_is_a_file, missing_parent], ids=lambda make: make.__name__
)
def test_get_shipment(make: Breaker, offline_client: Client, tmp_path: Path) -> None:
    broken = make(tmp_path)
    with pytest.raises(StorageError) as raised:
        offline_client.get_shipment("LIEFERUNG-1", broken.inbox)
    check(raised, broken)


def test_get_shipment_into_a_read_only_folder(offline_client: Client, tmp_path: Path) -> None:
    broken = read_only_folder(tmp_path)
    with pytest.raises(StorageError, match="permission denied") as raised:
        offline_client.get_shipment("LIEFERUNG-1", broken.inbox)
    assert raised.value.path == broken.inbox


def test_get_shipment_into_a_folder_it_may_not_write_into_even_as_root(
    offline_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test above skips for root, and CI runs as root: the same refusal, made by hand.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    refuse_folders_in(inbox, monkeypatch)
    with pytest.raises(StorageError, match="permission denied") as raised:
        offline_client.get_shipment("LIEFERUNG-1", inbox)
    assert raised.value.path == inbox
    assert isinstance(raised.value.__cause__, PermissionError)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "make", [file_instead_of_folder, parent_is_a_file, *JOURNALS], ids=lambda make: make.__name__
)
def test_contract_index_from_journal(make: Breaker, tmp_path: Path) -> None:
    broken = make(tmp_path)
    with pytest.raises(StorageError) as raised:
        ContractIndex.from_journal(broken.inbox)
    check(raised, broken)


def test_contract_index_without_a_journal(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no fetch journal") as raised:
        ContractIndex.from_journal(tmp_path)
    assert raised.value.path == journal_path(tmp_path.resolve())
    assert not journal_path(tmp_path).exists()


@pytest.mark.parametrize("make", JOURNALS, ids=lambda make: make.__name__)
def test_journal(make: Breaker, tmp_path: Path) -> None:
    broken = make(tmp_path)
    with pytest.raises(JournalError) as raised:
        SqliteStore(journal_path(broken.inbox))
    check(raised, broken)


def test_journal_whose_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "inbox").write_text("a file")
    with pytest.raises(JournalError, match="a part of the path is a file, not a folder"):
        SqliteStore(journal_path(tmp_path / "inbox"))


def test_journal_marks_only_what_it_knows(tmp_path: Path) -> None:
    with (
        SqliteStore(tmp_path / "journal.sqlite3") as journal,
        pytest.raises(JournalError, match="no shipment"),
    ):
        journal.mark_stored(ACCOUNT, "UNBEKANNT")


@pytest.mark.parametrize("make", FOLDERS + JOURNALS, ids=lambda make: make.__name__)
def test_cli_fetch_says_it_in_one_line(make: Breaker, sandbox: Sandbox, tmp_path: Path) -> None:
    broken = make(tmp_path)
    # Narrow: the line is printed unwrapped, so a path is never cut in two.
    result = run_as(sandbox, "fetch", "--inbox", str(broken.inbox), env={"COLUMNS": "60"})
    assert result.returncode == 4, result.stderr  # ExitCode.STORAGE
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr  # the error, unwrapped, and what to do
    assert lines[1].startswith("What to do: ")
    assert lines[0].startswith(f"{broken.error.__name__}: ")
    assert broken.says in lines[0]
    assert sandbox.stats.sts_requests == 0  # refused before logging in


@pytest.mark.parametrize(
    ("name", "says"), [("fehlt.csv", "it does not exist"), ("ordner", "it is a folder, not a file")]
)
def test_read_migration_list_of_a_file_that_cannot_be_read(name: str, says: str, tmp_path: Path) -> None:
    (tmp_path / "ordner").mkdir()
    with pytest.raises(StorageError) as raised:
        read_migration_list(tmp_path / name)
    assert str(raised.value) == f"cannot read the migration list {tmp_path / name}: {says}"
    assert raised.value.path == tmp_path / name
