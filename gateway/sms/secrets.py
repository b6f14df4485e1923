"""Read secrets from the environment: ``VAR``, or the file named by ``VAR_FILE``."""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from gateway.text.phones import mask_phone  # noqa: F401 - one masking rule; kept importable here


def read_secret(var: str, env: Mapping[str, str] | None = None) -> str:
    """The value of ``$VAR``, else the stripped content of ``$VAR_FILE``, else ""."""
    env = os.environ if env is None else env
    if not var:
        return ""
    if env.get(var):
        return env[var]
    path = env.get(f"{var}_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return ""


def read_secrets(names: Mapping[str, str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Resolve a ``{credential: ENV_VAR}`` mapping into ``{credential: value}``."""
    return {key: read_secret(var, env) for key, var in names.items()}
