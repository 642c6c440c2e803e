"""Static checks as part of the suite (issue 12, point 9): `make test` and CI run them.

ruff over cardbase/, tests/ and bench/ with the rule set in pyproject.toml ([tool.ruff]),
and mypy over cardbase/formula and cardbase/schema_engine ([tool.mypy]). Both come from
the test extras (``pip install -e '.[test]'``, what `make test` does); a missing tool fails
the test rather than skipping it, so CI cannot pass without the checks.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec(tool) is None:
        pytest.fail(f"{tool} is not installed: pip install -e '.[test]' (make test does)")
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


def test_ruff_is_clean():
    done = _run("ruff", "check", "--no-cache", "--output-format", "concise", "cardbase", "tests", "bench")
    assert done.returncode == 0, "ruff check found problems:\n" + done.stdout + done.stderr


def test_mypy_is_clean():
    done = _run("mypy", "--no-incremental")  # files and options: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, "mypy found problems:\n" + done.stdout + done.stderr
