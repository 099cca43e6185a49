"""Start-up stays light, checked by what a fresh interpreter has imported (never by the clock).

`import digicomp` and `digicomp --help` load neither numpy, scipy, YAML nor pydantic (so no pydantic model is
built); an EAP simulation from a parameter table never imports scipy (scipy.special alone costs ~0.1 s).
benchmarks/bench_startup.py measures the times.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HEAVY = ("numpy", "scipy", "yaml", "pydantic", "pydantic_core", "matplotlib", "psycopg")


def loaded_after(code: str) -> set[str]:
    """Top-level packages in sys.modules after running ``code`` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_digicomp_loads_nothing_heavy():
    assert loaded_after("import digicomp") & set(HEAVY) == set()


def test_help_loads_nothing_heavy_and_builds_no_pydantic_model():
    code = textwrap.dedent(
        """
        import contextlib, io
        from digicomp.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                main(["--help"])
            except SystemExit:
                pass
        assert "simulate" in out.getvalue() and "calibrate" in out.getvalue()
        """
    )
    assert loaded_after(code) & set(HEAVY) == set()


def test_every_subcommand_help_loads_nothing_heavy():
    code = textwrap.dedent(
        """
        import contextlib, io, pkgutil
        import digicomp.commands
        from digicomp.cli import build_parser
        parser = build_parser()
        commands = [m.name for m in pkgutil.iter_modules(digicomp.commands.__path__) if not m.name.startswith("_")]
        assert len(commands) >= 8, commands
        for name in commands:
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    parser.parse_args([name, "--help"])
                except SystemExit:
                    pass
        """
    )
    assert loaded_after(code) & set(HEAVY) == set()


def test_an_eap_simulation_from_a_parameter_table_never_imports_scipy(tmp_path):
    table = tmp_path / "params.csv"
    table.write_text(
        "item,itemtype,a1,d,g,u\n" + "".join(f"q{j},3PL,{1 + j / 40},{j / 10 - 1},0.2,1\n" for j in range(20)),
        encoding="utf-8",
    )
    design = tmp_path / "design.yaml"
    design.write_text(
        "kind: cat_design\nid: eap\nstart: {theta: 0.0}\nselection: {rule: mfi}\nexposure: {method: none}\n"
        "scoring: {method: EAP, points: 61}\nstop: {max_items: 10, rules: [{se: 0.3}]}\nreport: {audit: false}\n",
        encoding="utf-8",
    )
    code = textwrap.dedent(
        f"""
        import contextlib, io
        from digicomp.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            status = main(["simulate", {str(design)!r}, "--bank", {str(table)!r}, "--n", "50", "--baseline", "none",
                           "--quiet"])
        assert status == 0 and "mean_length" in out.getvalue(), out.getvalue()
        """
    )
    loaded = loaded_after(code)
    assert "numpy" in loaded and "pydantic" in loaded  # the probe did run the study
    assert "scipy" not in loaded


def test_the_command_line_process_freezes_its_objects_before_exit_and_callers_with_argv_do_not():
    """The interpreter's final collection skips frozen objects (most of a ~45 ms exit); tests and embedders keep GC."""
    code = textwrap.dedent(
        """
        import contextlib, gc, io, json, sys
        from digicomp.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["frameworks"])
            with_argv = gc.get_freeze_count()
            sys.argv = ["digicomp", "frameworks"]
            main()
        print(json.dumps([with_argv, gc.get_freeze_count()]))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    with_argv, from_the_command_line = json.loads(out.strip().splitlines()[-1])
    assert with_argv == 0 and from_the_command_line > 0
