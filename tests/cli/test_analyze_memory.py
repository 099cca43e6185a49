"""digicomp.commands._memory: the analyze process's memory settings leave what a user set alone."""

from __future__ import annotations

import subprocess
import sys

CODE = (
    "import os; from digicomp.commands._memory import keep_freed_memory; r = keep_freed_memory(); "
    "print(r, os.environ.get('NUMPY_MADVISE_HUGEPAGE'))"
)


def _run(env_extra: dict[str, str]) -> str:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "NUMPY_MADVISE_HUGEPAGE"}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True).stdout


def test_settings_apply_before_numpy_is_imported():
    out = _run({})
    assert out.split()[1] == "0"  # numpy, imported later, will not advise huge pages
    if sys.platform.startswith("linux"):
        assert out.split()[0] in ("True", "False")  # False on a libc without mallopt's options (musl)


def test_a_users_settings_win():
    assert _run({"NUMPY_MADVISE_HUGEPAGE": "1"}).split()[1] == "1"
    assert _run({"MALLOC_ARENA_MAX": "2"}).split()[0] == "False"
