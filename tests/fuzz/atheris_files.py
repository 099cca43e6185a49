"""Coverage-guided fuzzing of the file loaders with atheris (libFuzzer); the long release run.

    DIGICOMP_FUZZ_ENTRY=yaml python tests/fuzz/atheris_files.py -max_total_time=600 /tmp/fuzz-yaml \\
        tests/fuzz/corpus/yaml

``DIGICOMP_FUZZ_ENTRY`` picks the entry point (``yaml``, ``csv`` or ``param_table``; see files_harness.py) and each
input is that file's bytes, so the regression corpus and the harness seeds serve as starting inputs. Without it,
the first byte of each input picks the entry. Anything but success or a DigicompError is a finding: the input is
written as ``fuzz-findings/<entry>-<hash>.<ext>`` (add a line to ``corpus/<entry>/_expected.json`` and move the file
to ``corpus/<entry>/`` to keep it as a regression input) and the exception is raised so libFuzzer stops and keeps
the crashing input too. Not collected by pytest (the name does not start with ``test_``). See README.md.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["digicomp"]):
    sys.path.insert(0, str(Path(__file__).parent))
    from files_harness import ENTRIES, run, seeds

    import digicomp.bank
    import digicomp.calibration.data
    import digicomp.cat
    import digicomp.cat.design
    import digicomp.commands.validate
    import digicomp.framework
    import digicomp.io.param_table
    import digicomp.io.responses
    import digicomp.io.yamlfile  # noqa: F401  (the harness imports them lazily; instrument them here)

FINDINGS = Path("fuzz-findings")
FIXED = os.environ.get("DIGICOMP_FUZZ_ENTRY")
if FIXED is not None and FIXED not in ENTRIES:
    raise SystemExit(f"DIGICOMP_FUZZ_ENTRY={FIXED!r}: expected one of {', '.join(ENTRIES)}")


def one_input(data: bytes) -> None:
    """Feed one input to its entry point; save it and re-raise if anything but a DigicompError escapes."""
    if FIXED is not None:
        entry, body = FIXED, data
    elif data:
        entry, body = ENTRIES[data[0] % len(ENTRIES)], data[1:]
    else:
        return
    try:
        run(entry, body)
    except Exception:
        FINDINGS.mkdir(exist_ok=True)
        suffix = ".yaml" if entry == "yaml" else ".csv"
        name = FINDINGS / f"{entry}-{hashlib.sha1(body).hexdigest()[:12]}{suffix}"
        name.write_bytes(body)
        sys.stderr.write(f"finding saved as {name}\n")
        raise


def main() -> None:
    """Start libFuzzer with the harness seeds (valid files) added to the corpus folders given."""
    folder = Path(f"fuzz-seeds-{FIXED or 'files'}")
    folder.mkdir(exist_ok=True)
    for entry in [FIXED] if FIXED else ENTRIES:
        for k, seed in enumerate(seeds(entry)):
            prefix = b"" if FIXED else bytes([ENTRIES.index(entry)])
            (folder / f"seed-{entry}-{k}").write_bytes(prefix + seed)
    atheris.Setup([*sys.argv, str(folder)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
