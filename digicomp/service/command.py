"""``digicomp serve``: run the assessment service (uvicorn workers over one store).

Registered by :mod:`digicomp.cli` (the service is the floor above the commands). Importing this module is light:
FastAPI and uvicorn load only when the command runs.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys

from digicomp.errors import DigicompError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``serve`` subcommand."""
    p = sub.add_parser(
        "serve",
        help="run the assessment service (REST API and test-taker page; needs digicomp[serve])",
        description="Run the assessment service. Without arguments: a local SQLite store (digicomp-serve.db) and the "
        "bundled civil-service test on http://127.0.0.1:8000/.",
    )
    p.add_argument("--config", metavar="SERVICE.yaml", help="the service configuration (designs, units, users, keys)")
    p.add_argument("--store", metavar="URL", help="the store (postgresql://..., sqlite:///path or a file); overrides")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1; stateless, any number)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--hash-password", action="store_true", help="read a password on stdin, print its scrypt hash")
    p.add_argument("--new-key", action="store_true", help="print a new random API key and its SHA-256 for the config")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.service.auth import hash_key, hash_password
    from digicomp.service.config import load_config

    if args.hash_password:
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
        if len(password) < 12:
            raise DigicompError("a password needs at least 12 characters")
        print(hash_password(password))
        return 0
    if args.new_key:
        key = secrets.token_urlsafe(32)
        print(f"key:        {key}\nkey_sha256: {hash_key(key)}")
        return 0
    if args.workers < 1 or not 0 < args.port < 65536:
        raise DigicompError("--workers must be >= 1 and --port in 1..65535")
    try:
        import uvicorn
    except ImportError:
        raise DigicompError("digicomp serve needs FastAPI and uvicorn: pip install 'digicomp[serve]'") from None
    from digicomp.service.app import CONFIG_ENV

    config = load_config(args.config)
    if args.store:
        config = config.model_copy(update={"store": args.store})
    if config.secret is not None:  # hand the file's secret to the workers through their environment, not argv
        os.environ[config.secret_env] = config.secret.get_secret_value()
    elif not os.environ.get(config.secret_env):
        if args.config:
            config.secret_bytes()  # the ConfigError saying where the secret goes
        os.environ[config.secret_env] = secrets.token_urlsafe(32)
        print(
            f"digicomp serve: no {config.secret_env} set: using a random secret for this run (open forms stop "
            "working after a restart; set it for production)",
            file=sys.stderr,
        )
    config.secret_bytes()
    data = config.model_dump(mode="json", exclude={"secret"})
    os.environ[CONFIG_ENV] = json.dumps(data)
    from digicomp.service.app import app_from_env

    app_from_env()  # build once here: a bad design, bank or store fails now with one clear line, not per worker
    print(f"digicomp serve: http://{args.host}:{args.port}/ (API: /api/v1/docs), store {config.store}", file=sys.stderr)
    uvicorn.run(
        "digicomp.service.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        proxy_headers=config.trust_proxy,
        forwarded_allow_ips="*" if config.trust_proxy else None,
        access_log=False,
    )
    return 0
