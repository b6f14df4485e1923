"""requirements.lock and requirements-dev.lock (written by `make lock`) agree with
pyproject.toml: every dependency pinned within its bounds, both files on the same versions,
and every bound capped below the next major version."""
from __future__ import annotations

import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.config import PROJECT_DIR

PROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(line) for line in PROJECT["dependencies"]]
DEV = [Requirement(line) for line in PROJECT["optional-dependencies"]["dev"]]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.MULTILINE)


def pins(name: str) -> dict[str, str]:
    """{canonical name: version} of a lock file."""
    text = (PROJECT_DIR / name).read_text()
    return {canonicalize_name(found[1]): found[2] for found in PIN.finditer(text)}


@pytest.mark.parametrize(("lock", "requirements"), [
    ("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)])
def test_every_dependency_is_pinned_within_the_bounds_of_pyproject(lock, requirements):
    pinned = pins(lock)
    for requirement in requirements:
        version = pinned.get(canonicalize_name(requirement.name))
        assert version is not None, f"{lock} lacks {requirement.name}: run `make lock`"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {requirement.name}=={version}, outside {requirement.specifier}: "
            "run `make lock`")


def test_production_and_development_locks_pin_the_same_versions():
    production, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: development.get(name) for name in production} == production


@pytest.mark.parametrize("requirement", RUNTIME + DEV, ids=lambda r: r.name)
def test_every_dependency_has_an_upper_bound(requirement):
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier)
