"""Settings: config.yaml validated at start, errors name the key, env overrides apply."""
from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_settings

BAD_CONFIGS = [
    (b"ussd:\n  session_ttl_seconds: soon\n", "ussd.session_ttl_seconds"),
    (b"registration:\n  max_beneficiaries_per_phone: 0\n",
     "registration.max_beneficiaries_per_phone"),
    (b"timezone: Mars/Olympus\n", "timezone"),
    (b"ussd:\n  sesion_ttl: 10\n", "ussd.sesion_ttl"),
    (b"- just\n- a list\n", "top level"),
    (b"ussd: [unclosed\n", "not valid YAML"),
    (b"\xff\xfe garbage", "not valid YAML"),
    (b"upstream:\n  queue: otp\n", "upstream.queue"),  # registry sync never ahead of OTPs
    (b"upstream:\n  max_in_flight: 0\n", "upstream.max_in_flight"),
    (b"upstream:\n  breaker_reset_seconds: 600\n", "breaker_reset_seconds"),
    (b"upstream:\n  backoff_base_seconds: 400\n", "backoff_base_seconds"),
]


@pytest.mark.parametrize("text,named", BAD_CONFIGS)
def test_a_bad_config_names_the_key(tmp_path, text, named):
    path = tmp_path / "config.yaml"
    path.write_bytes(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, env={})
    assert named in str(error.value)


def test_a_missing_config_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError, match="VAXGATE_CONFIG"):
        load_settings(tmp_path / "nope.yaml", env={})


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("database_url: sqlite:///a.db\nredis_url: redis://file:6379/0\n")
    settings = load_settings(path, env={"VAXGATE_REDIS_URL": "redis://env:6379/1",
                                        "VAXGATE_DATABASE_URL": "postgresql://db/vaxgate"})
    assert settings.redis_url == "redis://env:6379/1"
    assert settings.database_url == "postgresql://db/vaxgate"


def test_vaxgate_config_names_another_file(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("registration:\n  min_age: 45\n")
    assert load_settings(env={"VAXGATE_CONFIG": str(path)}).registration.min_age == 45


def test_the_shipped_config_is_valid_and_runs_embedded():
    settings = load_settings(env={})
    assert settings.database_url.startswith("sqlite:////")
    assert settings.redis_url == ""
    assert settings.registration.max_beneficiaries_per_phone == 4
