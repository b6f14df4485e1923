"""No secrets in the repository: credentials come from the environment (or *_FILE), never from
a tracked file. Scans every file git tracks for key material in the formats of the services a
deployment uses, and the shipped config.yaml for credential settings holding values."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KEY_MATERIAL = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Africa's Talking API key": re.compile(r"\batsk_[0-9a-f]{64}\b"),
    "Twilio API key secret": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}"),
    # a real-looking password (not ***, $VAR or a PLACEHOLDER) for a host other than loopback
    "URL with a password": re.compile(r"\b(?:postgresql|postgres|redis|rediss|amqp)"
                                      r"(?:\+\w+)?://[\w.%-]*:(?!\*|\$|[A-Z_]+@)"
                                      r"[\w.%~!&'()*+,;=-]{6,}@(?!127\.0\.0\.1|localhost)"),
}
CREDENTIAL_NAME = re.compile(r"(secret|token|password|passwd|api_?key|credential)", re.I)


def key_material(text: str) -> list[str]:
    return [name for name, pattern in KEY_MATERIAL.items() if pattern.search(text)]


def tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / name for name in out.stdout.decode().split("\0") if name]


def test_the_scanner_recognises_each_kind_of_key_material():
    # assembled at run time, so this file itself holds none of them
    samples = {
        "private key": "-----BEGIN RSA " + "PRIVATE KEY-----",
        "AWS access key": "aws_access_key_id = AKIA" + "IOSFODNN7EXAMPLE",
        "Africa's Talking API key": "apiKey: atsk_" + "ab12" * 16,
        "Twilio API key secret": "SK" + "0f" * 16,
        "Slack token": "xox" + "b-1234567890-abcdef",
        "URL with a password": "postgresql://vaxgate:" + "hunter2hunter2@db.example.org/vaxgate",
    }
    for name, sample in samples.items():
        assert name in key_material(sample), name
    assert key_material("redis://:secret@127.0.0.1:6379/0 and AKIA-not-a-key") == []
    assert key_material("redis://:PASSWORD@host:6379 redis+sentinel://[:password@]h:26379") == []


def test_no_tracked_file_holds_key_material():
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        text = path.read_bytes()[:2_000_000].decode("utf-8", "ignore")
        found += [f"{path.relative_to(ROOT)}: {kind}" for kind in key_material(text)]
    assert found == [], "secrets belong in the environment (or *_FILE), not the repo:\n" + \
        "\n".join(found)


def _credential_values(node, path: str = "") -> list[str]:
    """Settings named like a credential that hold a value instead of naming a variable."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            named_env = str(key).endswith(("_env", "_header")) or where.endswith("_env")
            if CREDENTIAL_NAME.search(str(key)) and not named_env and \
                    isinstance(value, str | int) and str(value).strip():
                found.append(where)
            found += _credential_values(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _credential_values(item, f"{path}[{index}]")
    return found


def test_the_shipped_config_names_environment_variables_instead_of_holding_secrets():
    assert _credential_values({"sms": {"providers": [{"api_key": "abc"}]}}) == \
        ["sms.providers[0].api_key"]
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    assert _credential_values(config) == []
