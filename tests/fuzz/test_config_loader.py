"""``load_settings`` on any config file: Settings, or ConfigError naming the file and, for a
bad value, the key (``config.yaml: ussd.session_ttl_seconds: ...``) — never another
exception. Files are the shipped config.yaml mutated, any YAML document or any bytes; the
environment overrides get any text too."""
from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings
from tests.fuzz import tally

from .conftest import fuzz_settings
from .strategies import ENCODINGS, any_bytes, dump, encode, mutated, nasty_text, yaml_values

SHIPPED = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
DOC = yaml.safe_load(SHIPPED)
ENV_KEYS = ("VAXGATE_DATABASE_URL", "VAXGATE_REDIS_URL", "VAXGATE_SECRET_KEY")

config_files = st.one_of(
    *[mutated(DOC).map(dump).map(lambda text: text.encode("utf-8", "surrogatepass"))] * 4,
    yaml_values.map(dump).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.builds(encode, nasty_text, st.sampled_from(ENCODINGS)), any_bytes)
envs = st.dictionaries(st.sampled_from(ENV_KEYS), st.one_of(nasty_text, st.just("redis://x")),
                       max_size=2)


def with_timezone(zone: str) -> bytes:
    return SHIPPED.encode() + f"\ntimezone: {zone}\n".encode()


@given(data=config_files, env=envs)
@example(data=with_timezone("Asia"), env={})  # a folder of zoneinfo: was IsADirectoryError
@example(data=with_timezone("a" * 300), env={})  # was OSError: file name too long
@example(data=b"ussd: " + b"[" * 3000 + b"]" * 3000, env={})  # was RecursionError
@example(data=b"\xff\xfe\x00\x00", env={})
@example(data=b'"ussd\\nsms": 1', env={})  # a key with a line break
@example(data=b"sms: {providers: [{name: a, kind: twilio}, {name: a, kind: sandbox}]}", env={})
@fuzz_settings(examples=60)
def test_any_config_file_loads_or_names_the_key(data, env):
    with tally.case("config loader (load_settings)"), \
            tempfile.TemporaryDirectory(prefix="vaxgate-fuzz-config-") as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(data)
        try:
            settings = load_settings(path, env=env)
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith(("config.yaml: ", "invalid configuration:")), message
            if message.startswith("invalid configuration:"):  # a line per bad key, named
                for line in message.splitlines()[1:]:
                    assert line.strip().startswith("config.yaml: "), message
        else:
            assert isinstance(settings, Settings)
