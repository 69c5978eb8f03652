"""Where a result comes from: package versions, the git commit, the machine, the time.

Stored with every study and printed in every report, so a figure can be traced to the code and
the machine that produced it. Needs no torch: the caller adds what it knows of its device.
"""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any


__all__ = ["cpu_description", "git_commit", "now_utc", "package_versions"]

_PACKAGES = ("amed-opt", "optuna", "optuna-dashboard", "torch", "torchvision", "numpy")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a study's results."""
    versions = {"python": platform.python_version()}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def git_commit() -> str:
    """The repository's commit (with `-dirty` when the tree has changes), or `unknown`."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def cpu_description() -> dict[str, Any]:
    """CPU count and model, the platform and the package versions."""
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "platform": platform.platform(),
        "versions": package_versions(),
    }


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()
