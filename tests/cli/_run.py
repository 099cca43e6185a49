"""Run the ``digicomp`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def digicomp(
    *args: str, input: str | None = "", cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``digicomp ARGS`` with ``input`` on stdin; the completed process with text stdout/stderr."""
    return subprocess.run(
        [sys.executable, "-m", "digicomp.cli", *args],
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int = 1) -> None:
    """The process failed with ``code`` and said why in one line on stderr, without a traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("digicomp"), proc.stderr
    if code == 1:
        assert len(lines) == 1, proc.stderr
