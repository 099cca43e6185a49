"""The package's public names resolve lazily and `import digicomp` stays light."""

import subprocess
import sys

import digicomp


def test_every_public_name_resolves():
    for name in digicomp.__all__:
        assert getattr(digicomp, name) is not None


def test_unknown_attribute_raises_attribute_error():
    try:
        digicomp.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_does_not_load_scipy_or_the_engine():
    code = "import sys, digicomp; print('scipy' in sys.modules, 'digicomp.cat' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
