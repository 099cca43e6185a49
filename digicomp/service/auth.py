"""Authentication, authorisation, CSRF tokens and rate limits of the service (standard library only).

* Administrators authenticate with an API key (``X-API-Key``: the configuration holds its SHA-256) or as users
  with HTTP Basic (the configuration holds a salted scrypt hash, RFC 7914, N=2**14, r=8, p=1). Admin requests
  carry no cookie, so they need no CSRF token.
* Authorisation is per unit: a manager sees the sessions of their units and the units below them.
* The test-taker page keeps its session in a cookie (``HttpOnly``, ``SameSite=Strict``), so its forms carry a
  CSRF token: an HMAC of the session id (or of a random pre-session cookie) with the service's secret.
* Rate limits are token buckets in the worker process (a reverse proxy should add its own in front).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from digicomp.service.config import Principal, ServiceConfig
from digicomp.service.errors import ApiError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` of ``password`` with a random 16-byte salt (or ``salt``)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` hashes to ``stored`` (constant-time comparison)."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def hash_key(key: str) -> str:
    """The SHA-256 (hex) of an API key, as the configuration stores it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Authenticator:
    """Who sent an admin request (API key or HTTP Basic), and what they may see."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self._keys = {k.key_sha256: k for k in config.api_keys}
        self._users = {u.name: u for u in config.users}
        # scrypt takes ~50 ms on purpose: remember recently verified (user, password digest) pairs for 5 minutes
        self._verified: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def principal(self, api_key: str | None, authorization: str | None) -> Principal:
        """The principal of the request; ApiError 401 ``unauthorized`` (no credentials) or ``bad_credentials``."""
        if api_key:
            found = self._keys.get(hash_key(api_key))
            if found is None:
                raise ApiError(401, "bad_credentials", "the API key is not known")
            return found
        if authorization and authorization.lower().startswith("basic "):
            try:
                name, _, password = base64.b64decode(authorization[6:], validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(401, "bad_credentials", "the Authorization header is not valid HTTP Basic") from None
            user = self._users.get(name)
            if user is None or not self._check(user.name, password, user.password_hash):
                raise ApiError(401, "bad_credentials", "unknown user or wrong password")
            return user
        raise ApiError(
            401, "unauthorized", "this endpoint needs an API key (X-API-Key) or a user's HTTP Basic credentials"
        )

    def _check(self, name: str, password: str, stored: str) -> bool:
        key = (name, hashlib.sha256(f"{stored}\0{password}".encode()).hexdigest())
        now = time.monotonic()
        with self._lock:
            seen = self._verified.get(key)
            if seen is not None and now - seen < 300:
                return True
        if not verify_password(password, stored):
            return False
        with self._lock:
            self._verified[key] = now
            while len(self._verified) > 1000:
                self._verified.popitem(last=False)
        return True

    def units_of(self, who: Principal) -> set[str] | None:
        """The units ``who`` may see (None: all)."""
        if who.role == "admin" or who.units is None:
            return None if who.role == "admin" else set()
        return self.config.descendants(who.units)

    def scope(self, who: Principal, unit: str | None) -> list[str] | None:
        """The units a listing covers: ``unit`` (and below) if asked, else all ``who`` may see (None: every unit).

        ApiError 403 ``forbidden_unit`` when ``unit`` is outside what ``who`` may see, 404 ``unknown_unit`` for a
        unit the configuration does not name.
        """
        allowed = self.units_of(who)
        if unit is None:
            return None if allowed is None else sorted(allowed)
        if unit not in {u.unit for u in self.config.units}:
            raise ApiError(404, "unknown_unit", f"unit {unit!r} is not a unit of this service")
        if allowed is not None and unit not in allowed:
            raise ApiError(403, "forbidden_unit", f"{who.name!r} may not see unit {unit!r}")
        return sorted(self.config.descendants([unit]))


def csrf_token(secret: bytes, binding: str) -> str:
    """The CSRF token of a form bound to ``binding`` (the session id, or the pre-session cookie's value)."""
    return hmac.new(secret, f"csrf\0{binding}".encode(), hashlib.sha256).hexdigest()


def check_csrf(secret: bytes, binding: str | None, token: str | None) -> None:
    """ApiError 403 ``csrf`` unless ``token`` is the form token of ``binding``."""
    if not binding or not token or not hmac.compare_digest(csrf_token(secret, binding), token):
        raise ApiError(403, "csrf", "the form's security token is missing or does not match; reload the page")


class RateLimiter:
    """Token buckets by key: ``rate`` tokens a minute, at most ``rate`` stored; least recently used keys dropped."""

    def __init__(self, per_minute: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_keys
        self._lock = threading.Lock()

    def take(self, key: str, what: str) -> None:
        """Spend one token of ``key``; ApiError 429 ``rate_limited`` (with ``retry_after`` seconds) when empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise ApiError(429, "rate_limited", f"too many {what}; try again in {wait:.0f} s", retry_after=wait)
            self._buckets[key] = (tokens - 1.0, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
