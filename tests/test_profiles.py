"""Insurer profiles are data: R+V group endpoints, versions and base_url override."""

from __future__ import annotations

import pytest

from bipro_ruv import PROFILES, ConfigurationError, InsurerProfile, get_profile


@pytest.mark.parametrize(
    ("key", "vu_number", "transfer_version"),
    [("ruv", "5438", "2.6.2.1.0"), ("kravag", "5058", "2.4.4.1.1"), ("condor", "5339", "2.4.4.1.1")],
)
def test_group_profiles(key: str, vu_number: str, transfer_version: str) -> None:
    profile = PROFILES[key]
    assert profile.vu_number == vu_number
    assert profile.transfer.bipro_version == transfer_version
    assert profile.transfer.url.endswith(f"/TransferService/{transfer_version}")
    assert profile.sts.url == "https://webservice.ruv.de/bipro/sts/2.4.0.1.0"
    assert profile.verified is False


def test_base_url_moves_every_service_and_keeps_paths() -> None:
    moved = get_profile("ruv").with_base_url("http://127.0.0.1:8080/prefix/")
    assert moved.sts.url == "http://127.0.0.1:8080/prefix/bipro/sts/2.4.0.1.0"
    assert moved.transfer.url == "http://127.0.0.1:8080/prefix/bipro/TransferService/2.6.2.1.0"
    assert moved.extranet is not None
    assert moved.extranet.url == "http://127.0.0.1:8080/prefix/bipro/ExtranetService/1.0.1.0"


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="condor, kravag, ruv"):
        get_profile("allianz")


def test_relative_base_url_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        get_profile("ruv").with_base_url("127.0.0.1:8080")


def test_profiles_are_frozen() -> None:
    profile = get_profile("ruv")
    with pytest.raises(ValueError, match="frozen"):
        profile.vu_number = "1234"  # type: ignore[misc]
    assert isinstance(profile, InsurerProfile)
