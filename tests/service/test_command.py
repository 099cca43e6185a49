"""`digicomp serve` as a command: configuration errors with file and line, password hashing, the secret's source,
and the secret never written to the output of a running server."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest

from digicomp.service.auth import verify_password

from .server import Served

pytest.importorskip("uvicorn")


def serve(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "DIGICOMP_SECRET"}
    return subprocess.run(
        [sys.executable, "-m", "digicomp.cli", "serve", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**environ, **(env or {})},
        timeout=120,
    )


def test_a_bad_configuration_names_the_file_line_and_field(tmp_path):
    path = tmp_path / "SERVICE.yaml"
    path.write_text("kind: service\ndesigns:\n  - {id: a}\n  - {id: a}\nusers:\n  - {name: u, password_hash: x}\n")
    done = serve("--config", str(path))
    assert done.returncode == 1
    assert f"{path}:2: designs: design ids must be unique" in done.stderr
    assert f"{path}:6: users[0].password_hash" in done.stderr


def test_a_configuration_without_a_secret_says_where_to_put_it(tmp_path):
    path = tmp_path / "SERVICE.yaml"
    path.write_text(f"store: {tmp_path / 's.db'}\n")
    done = serve("--config", str(path))
    assert done.returncode == 1 and "DIGICOMP_SECRET" in done.stderr


def test_hash_password_reads_stdin_and_refuses_short_ones():
    done = serve("--hash-password", stdin="a long enough password\n")
    assert done.returncode == 0 and verify_password("a long enough password", done.stdout.strip())
    assert not verify_password("another password", done.stdout.strip())
    assert serve("--hash-password", stdin="short\n").returncode == 1


def test_the_secret_from_the_configuration_is_never_written_out(tmp_path):
    secret = "never-print-me-" + "z" * 30
    path = tmp_path / "SERVICE.yaml"
    path.write_text(f"store: {tmp_path / 's.db'}\nsecret: {secret}\n")
    log = tmp_path / "serve.log"
    server = Served(f"sqlite:///{tmp_path / 's.db'}", workers=1, config=path, log=log, debug=True)
    try:
        for url in ("/", "/api/v1/health", "/api/v1/openapi.json", "/nope"):
            try:
                urllib.request.urlopen(server.url + url, timeout=10).read()
            except OSError:
                pass
    finally:
        server.stop()
    text = log.read_text()
    assert "digicomp serve: http://" in text and secret not in text
