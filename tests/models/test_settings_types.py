"""`Settings` checks the types of its on/off and numeric fields and the names `from_env` is given: "no" is a
truthy string, so it used to switch on what it meant to switch off."""
from __future__ import annotations

import pytest

from rolegraph.settings import Settings, SettingsError


@pytest.mark.parametrize("name", ["cache", "coalesce", "allow_weak_sandbox"])
@pytest.mark.parametrize("value", ["no", "false", 0, 1, None])
def test_a_bool_setting_must_be_a_bool(tmp_path, name, value):
    with pytest.raises(SettingsError, match=f"{name} must be True or False"):
        Settings.from_env(**{name: value})
    with pytest.raises(SettingsError, match=f"{name} must be True or False"):
        Settings(home=tmp_path, **{name: value})


@pytest.mark.parametrize("value", ["0.5", None, True])
def test_latency_scale_must_be_a_number(tmp_path, value):
    with pytest.raises(SettingsError, match="latency_scale must be a number"):
        Settings(home=tmp_path, latency_scale=value)


def test_an_int_latency_scale_is_a_number(tmp_path):
    assert Settings(home=tmp_path, latency_scale=1).latency_scale == 1


@pytest.mark.parametrize("home", [None, 5])
def test_home_must_be_a_path(home):
    with pytest.raises(SettingsError, match="home must be a path"):
        Settings(home=home)


def test_an_unknown_override_names_the_settings_and_a_close_one():
    with pytest.raises(SettingsError) as err:
        Settings.from_env(coalese=False)
    assert "unknown setting 'coalese'" in str(err.value) and "Did you mean: coalesce" in str(err.value)
