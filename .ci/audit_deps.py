"""Audit the installed environment's packages with pip-audit against PyPI's vulnerability data.

    python .ci/audit_deps.py                      # `make audit`: any problem fails
    python .ci/audit_deps.py --allow-unreachable  # `make test`: an unreachable API is
                                                  # reported loudly, not failed

pip-audit asks PyPI for each package *version* (``/pypi/<name>/<version>/json``). When that
API does not answer, pip-audit on its own reports every package "not found" and exits 0:
an audit that audited nothing. So this first asks PyPI about the installed pip, and stops
with a message saying the audit did not run when there is no answer. Then pip-audit runs
with ``--strict`` (a package it cannot check is a failure) and ``--skip-editable`` (vaxgate
itself is not on PyPI). Accepted vulnerabilities are listed in IGNORED, each with its
reason in docs/security.md, "Dependency audit".
"""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

PROBE = "https://pypi.org/pypi/pip/{version}/json"
TIMEOUT_S = 15
UNREACHABLE = 3
IGNORED: dict[str, str] = {}  # vulnerability id -> why (keep docs/security.md in step)


def api_answers() -> str | None:
    """None when PyPI's per-version JSON answers; otherwise what went wrong."""
    url = PROBE.format(version=importlib.metadata.version("pip"))
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            response.read(1)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"{url}: {exc}"
    return None


def main(argv: list[str]) -> int:
    problem = api_answers()
    if problem is not None:
        print("== dependency audit NOT RUN: PyPI's vulnerability API did not answer\n"
              f"   ({problem}); no package was checked.", file=sys.stderr)
        return 0 if "--allow-unreachable" in argv else UNREACHABLE
    command = [str(Path(sys.executable).with_name("pip-audit")), "--skip-editable", "--strict",
               "--progress-spinner", "off", "--timeout", str(TIMEOUT_S)]
    for vulnerability in IGNORED:
        command += ["--ignore-vuln", vulnerability]
    print("== dependency audit:", " ".join(command[1:]), flush=True)
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
