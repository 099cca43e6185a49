"""The service's configuration (``SERVICE.yaml``) as a strict pydantic model, and where its secret comes from.

```yaml
kind: service
store: postgresql://digicomp@db/digicomp     # or sqlite:///var/lib/digicomp/store.db
secret_env: DIGICOMP_SECRET                   # the secret is read from this variable (or `secret:`)
designs:
  - {id: civil-service, bank: civil-service}  # design: a design YAML (default: the terminal test's design)
units:
  - {unit: ca-hn, name_vi: Công an Hà Nội, name_en: Hanoi Police}
  - {unit: ca-hn-bd, parent: ca-hn, name_vi: Công an quận Ba Đình}
users:
  - {name: admin, password_hash: "scrypt$16384$8$1$...", role: admin}
  - {name: hn-manager, password_hash: "scrypt$...", role: manager, units: [ca-hn]}
api_keys:
  - {name: reporting, key_sha256: "<sha256 hex of the key>", role: manager, units: [ca-hn-bd]}
targets: /etc/digicomp/targets.yaml           # optional: the dashboard's targets (level, share, date[, unit])
```

The secret (HMAC key of the CSRF tokens) is never written in logs or in ``repr``: it is a ``SecretStr``. Passwords
and API keys are stored as hashes only (``digicomp serve --hash-password`` / ``--hash-key`` print them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from digicomp.errors import DigicompError

DEFAULT_SECRET_ENV = "DIGICOMP_SECRET"
MIN_SECRET_CHARS = 32


class ConfigError(DigicompError):
    """A service configuration that cannot be used (the message names the file and field)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DesignEntry(_Strict):
    """A test offered: ``id`` (in URLs and the API), the bank (bundled id or YAML path), the design (YAML path;
    None: the terminal test's built-in design), a title per language."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    bank: str = "civil-service"
    design: str | None = None
    title: dict[str, str] = Field(default_factory=dict)


class UnitEntry(_Strict):
    """An organisational unit (a tree through ``parent``), as the store's units table holds it."""

    unit: str = Field(min_length=1, max_length=64)
    parent: str | None = None
    name_vi: str | None = None
    name_en: str | None = None
    headcount: int | None = Field(default=None, ge=0)


class Principal(_Strict):
    """Who may use the admin API: ``admin`` sees everything (and runs the store check); a ``manager`` sees the
    sessions of ``units`` and the units below them."""

    name: str = Field(min_length=1, max_length=64)
    role: Literal["admin", "manager"] = "manager"
    units: list[str] | None = None


class UserEntry(Principal):
    """A person logging in with HTTP Basic: the password as ``scrypt$N$r$p$salt$hash`` (see service.auth)."""

    password_hash: str = Field(pattern=r"^scrypt\$\d+\$\d+\$\d+\$[0-9a-f]{32}\$[0-9a-f]{64}$")


class ApiKeyEntry(Principal):
    """A machine client sending ``X-API-Key``: the key's SHA-256 (keys are long random strings, so one unsalted
    hash suffices; a password is not a key)."""

    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class RateLimits(_Strict):
    """Per worker process: sessions started per client address, requests per session, both per minute."""

    starts_per_minute: int = Field(default=30, ge=1)
    requests_per_session_per_minute: int = Field(default=120, ge=1)


class ServiceConfig(_Strict):
    """The whole ``SERVICE.yaml``."""

    kind: Literal["service"] = "service"
    store: str = "digicomp-serve.db"
    secret: SecretStr | None = None
    secret_env: str = DEFAULT_SECRET_ENV
    designs: list[DesignEntry] = Field(default_factory=lambda: [DesignEntry(id="civil-service")], min_length=1)
    units: list[UnitEntry] = Field(default_factory=list)
    require_unit: bool = False
    users: list[UserEntry] = Field(default_factory=list)
    api_keys: list[ApiKeyEntry] = Field(default_factory=list)
    rate_limits: RateLimits | None = RateLimits()
    https: bool = False
    """Behind a TLS-terminating proxy: cookies get ``Secure`` and responses ``Strict-Transport-Security``."""
    trust_proxy: bool = False
    """Take the client address from ``X-Forwarded-For`` (only behind a proxy that sets it)."""
    store_pool: int = Field(default=4, ge=1, le=64)
    """Store connections per worker process (requests beyond it wait for one)."""
    targets: str | None = Field(default=None, min_length=1)
    """The programme's targets file for the dashboard (``digicomp progress --targets`` format; levels and units
    are checked against the offered tests and ``units`` when the app starts)."""

    @field_validator("targets")
    @classmethod
    def _targets_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError(f"targets file {value!r} does not exist (a path relative to where the service runs)")
        return value

    @field_validator("designs")
    @classmethod
    def _unique_designs(cls, value: list[DesignEntry]) -> list[DesignEntry]:
        ids = [d.id for d in value]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"design ids must be unique; repeated: {sorted(dup)}")
        return value

    @model_validator(mode="after")
    def _units_known(self) -> ServiceConfig:
        known = {u.unit for u in self.units}
        for u in self.units:
            if u.parent is not None and u.parent not in known:
                raise ValueError(f"unit {u.unit!r}: parent {u.parent!r} is not a unit of this file")
        for who in [*self.users, *self.api_keys]:
            for unit in who.units or []:
                if unit not in known:
                    raise ValueError(f"{who.name!r}: unit {unit!r} is not a unit of this file")
        names = [w.name for w in [*self.users, *self.api_keys]]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"user and API key names must be unique; repeated: {sorted(dup)}")
        return self

    def secret_bytes(self) -> bytes:
        """The secret: ``secret`` in the file, else the environment variable ``secret_env``.

        ConfigError when there is none or it is shorter than 32 characters (never echoing it).
        """
        value = self.secret.get_secret_value() if self.secret is not None else os.environ.get(self.secret_env)
        if not value:
            raise ConfigError(
                f"the service needs a secret: set the environment variable {self.secret_env} (or `secret:` in the "
                f"configuration) to a random string of at least {MIN_SECRET_CHARS} characters, e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        if len(value) < MIN_SECRET_CHARS:
            raise ConfigError(f"the secret is {len(value)} characters long; use at least {MIN_SECRET_CHARS}")
        return value.encode("utf-8")

    def descendants(self, units: list[str]) -> set[str]:
        """``units`` and every unit below them in the tree."""
        children: dict[str, list[str]] = {}
        for u in self.units:
            if u.parent is not None:
                children.setdefault(u.parent, []).append(u.unit)
        out, todo = set(), list(units)
        while todo:
            unit = todo.pop()
            if unit not in out:
                out.add(unit)
                todo += children.get(unit, [])
        return out


def load_config(path: str | Path | None) -> ServiceConfig:
    """The configuration in ``path`` (None: the defaults, a local SQLite store and the civil-service test).

    ConfigError naming the file and every problem (field path and message).
    """
    if path is None:
        return ServiceConfig()
    from digicomp.io.yamlfile import load_yaml

    data, linemap = load_yaml(path, ConfigError)
    return config_from(data, str(path), linemap)


def config_from(data: Any, where: str = "configuration", linemap: dict | None = None) -> ServiceConfig:
    """A ServiceConfig from plain data; ConfigError listing every problem (``FILE:LINE: field: message``)."""
    from digicomp.io.yamlfile import problem

    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of settings, got {type(data).__name__}")
    try:
        return ServiceConfig.model_validate(data)
    except ValidationError as exc:
        lines = [
            problem(where, linemap or {}, tuple(err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]
        raise ConfigError("\n  ".join([f"{where}: {len(lines)} problems"] * (len(lines) > 1) + lines)) from None
