"""``bipro-ruv link VSNR [--online] [--open]``, run as the installed console script."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bipro_ruv.sandbox import Sandbox
from tests._cli import run, run_as


@pytest.mark.parametrize(
    ("typed", "url", "rule"),
    [
        ("32123456789", "https://online.ruv.de/makler/vertrag?vsnr=32123456789", "contract page"),
        ("32 123 456 789", "https://online.ruv.de/makler/vertrag?vsnr=32123456789", "contract page"),
        ("123456789", "https://online.ruv.de/makler/suche?vsnr=123456789", "search mask"),
        ("123 456 789", "https://online.ruv.de/makler/suche?vsnr=123456789", "search mask"),
        ("123/32/123456789", "https://online.ruv.de/makler/vertrag?vsnr=32123456789", "Filialdirektion 123"),
        ("12332123456789", "https://online.ruv.de/makler/vertrag?vsnr=32123456789", "Filialdirektion 123"),
        ("70/850632", "https://online.ruv.de/makler/suche?vsnr=70%2F850632", "old Condor number"),
    ],
)
def test_offline_link_follows_the_rules_without_credentials(typed: str, url: str, rule: str) -> None:
    result = run("link", typed)
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first == url
    assert rule in "\n".join(rest)
    assert "offline" in result.stdout


@pytest.mark.parametrize(
    ("typed", "kind", "url"),
    [
        ("32 123 456 789", "contract", "https://online.ruv.de/makler/vertrag?vsnr=32123456789"),
        ("123456789", "search", "https://online.ruv.de/makler/suche?vsnr=123456789"),
    ],
)
def test_link_json_is_one_object_for_a_script(typed: str, kind: str, url: str) -> None:
    result = run("link", typed, "--json")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    document = json.loads(line)
    assert document["url"] == url
    assert document["kind"] == kind
    assert document["vsnr"] == typed.replace(" ", "")
    assert document["rule"]
    assert "offline" in document["source"]


@pytest.mark.parametrize("typed", ["B-XY 123", "1234567", "32-12345678901"])
def test_an_invalid_number_exits_2_with_a_clear_message(typed: str) -> None:
    result = run("link", typed)
    assert result.returncode == 2
    assert "not a valid VSNR" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("typed", "canonical", "path"),
    [
        ("18560093318", "18560093318", "/portal/vertrag"),
        ("123/18/560093318", "18560093318", "/portal/vertrag"),
        ("560093318", "560093318", "/portal/suche"),
    ],
)
def test_online_link_comes_from_getlinks(sandbox: Sandbox, typed: str, canonical: str, path: str) -> None:
    result = run_as(sandbox, "link", typed, "--online")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == sandbox.portal_url(canonical)
    assert path in sandbox.portal_url(canonical)
    assert "getLinks" in result.stdout
    assert sandbox.password not in result.stdout + result.stderr
    assert sandbox.stats.requests_by_operation["getLinks"] == 1


def test_online_with_a_wrong_password_exits_3(sandbox: Sandbox) -> None:
    result = run_as(sandbox, "link", "18560093318", "--online", password="falsch")
    assert result.returncode == 3
    assert "Login refused" in result.stderr


def _fake_browser(tmp_path: Path) -> tuple[Path, Path]:
    """An executable that records the URL it was asked to open (webbrowser honours $BROWSER)."""
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(opened)!r}, 'w').write(sys.argv[1])\n", encoding="utf-8"
    )
    browser.chmod(0o755)
    return browser, opened


@pytest.mark.skipif(sys.platform == "win32", reason="$BROWSER with a script is the POSIX webbrowser path")
def test_open_hands_the_offline_url_to_the_browser(tmp_path: Path) -> None:
    browser, opened = _fake_browser(tmp_path)
    result = run("link", "32 123456789", "--open", env={"BROWSER": str(browser)})
    assert result.returncode == 0, result.stderr
    assert opened.read_text(encoding="utf-8") == "https://online.ruv.de/makler/vertrag?vsnr=32123456789"


@pytest.mark.skipif(sys.platform == "win32", reason="$BROWSER with a script is the POSIX webbrowser path")
def test_open_hands_the_online_url_to_the_browser(sandbox: Sandbox, tmp_path: Path) -> None:
    browser, opened = _fake_browser(tmp_path)
    result = run_as(sandbox, "link", "18560093318", "--online", "--open", env={"BROWSER": str(browser)})
    assert result.returncode == 0, result.stderr
    assert opened.read_text(encoding="utf-8") == sandbox.portal_url("18560093318")


def test_without_open_no_browser_is_started(tmp_path: Path) -> None:
    browser, opened = _fake_browser(tmp_path)
    result = run("link", "32123456789", env={"BROWSER": str(browser)})
    assert result.returncode == 0, result.stderr
    assert not opened.exists()
