"""Request authentication: Snowflake key-pair JWTs and a programmatic access token.

A request must carry `Authorization: Bearer <token>` and
`X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT | PROGRAMMATIC_ACCESS_TOKEN`. Snowflake guesses
the type when the header is missing; the emulator refuses instead, so a client that forgets the
header (which the project's client must always send) fails here rather than in production.

A KEYPAIR_JWT passes when all of these hold, as Snowflake's key-pair docs define them:

* header `alg` is RS256 and the signature verifies with a configured public key;
* `iss` is `<ACCOUNT>.<USER>.SHA256:<fingerprint>`, the fingerprint being the standard base64
  (with padding) of the SHA-256 of the public key's DER SubjectPublicKeyInfo, and it names that
  very key;
* `sub` is `<ACCOUNT>.<USER>`, upper-case, equal to the configured account and user when given;
* `iat` and `exp` are present, `exp` is in the future and at most 3600 s after `iat`.

Any failure answers 401 before anything runs. The reason goes into the log and the message, never
the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

KEYPAIR_JWT = "KEYPAIR_JWT"
PROGRAMMATIC_ACCESS_TOKEN = "PROGRAMMATIC_ACCESS_TOKEN"
TOKEN_TYPE_HEADER = "X-Snowflake-Authorization-Token-Type"

MAX_LIFETIME_SECS = 3600
# Tolerated clock difference for `iat` in the future. UNVERIFIED: Snowflake's own skew allowance.
CLOCK_SKEW_SECS = 60

# UNVERIFIED against Snowflake for every reason but a bad signature: 390144 is the code Snowflake
# answers for an invalid JWT, and the emulator uses it for every token failure.
INVALID_TOKEN_CODE = "390144"


class AuthError(Exception):
    """Why a request is refused with 401."""

    def __init__(self, reason: str, message: str = "JWT token is invalid.") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message

    def body(self) -> dict[str, str]:
        return {"code": INVALID_TOKEN_CODE, "message": f"{self.message} [{self.reason}]"}


def expired_token_error() -> AuthError:
    return AuthError("token expired")


@dataclass(frozen=True)
class TrustedKey:
    fingerprint: str  # "SHA256:<base64>"
    public_key: RSAPublicKey


def load_public_key(pem_path: Path) -> TrustedKey:
    key = serialization.load_pem_public_key(pem_path.read_bytes())
    if not isinstance(key, RSAPublicKey):
        raise ValueError(f"{pem_path}: not an RSA public key")
    return TrustedKey(public_key_fingerprint(key), key)


def public_key_fingerprint(key: RSAPublicKey) -> str:
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode("ascii")


class Authenticator:
    def __init__(
        self,
        keys: list[TrustedKey],
        pat: str | None = None,
        account: str | None = None,
        user: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = {key.fingerprint: key for key in keys}
        self._pat = pat
        # The JWT names account and user in upper case; the configuration may not.
        self._subject = f"{account.upper()}.{user.upper()}" if account and user else None
        self._clock = clock

    def check(self, headers: Mapping[str, str]) -> None:
        """Return if the request may run; raise AuthError otherwise."""
        authorization = headers.get("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("missing bearer token in the Authorization header")
        token = token.strip()
        token_type = (headers.get(TOKEN_TYPE_HEADER) or "").strip().upper()
        if not token_type:
            raise AuthError(f"missing {TOKEN_TYPE_HEADER} header")
        if token_type == KEYPAIR_JWT:
            self._check_jwt(token)
        elif token_type == PROGRAMMATIC_ACCESS_TOKEN:
            self._check_pat(token)
        else:
            raise AuthError(f"token type {token_type} is not accepted here")

    def _check_pat(self, token: str) -> None:
        if self._pat is None:
            raise AuthError("no programmatic access token is configured", "Programmatic access token is invalid.")
        if not hmac.compare_digest(token.encode(), self._pat.encode()):
            raise AuthError("programmatic access token does not match", "Programmatic access token is invalid.")

    def _check_jwt(self, token: str) -> None:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise AuthError(f"malformed JWT: {error}") from None
        if header.get("alg") != "RS256":
            raise AuthError(f"JWT algorithm {header.get('alg')!r} is not RS256")

        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or ".SHA256:" not in issuer:
            raise AuthError("iss is not <ACCOUNT>.<USER>.SHA256:<fingerprint>")
        issuer_subject, _, fingerprint_b64 = issuer.rpartition(".SHA256:")
        key = self._keys.get("SHA256:" + fingerprint_b64)
        if key is None:
            raise AuthError("iss fingerprint matches no configured public key")

        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                # exp and iat are checked below, with the lifetime rule and a clear reason.
                options={"verify_exp": False, "verify_iat": False, "verify_aud": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as error:
            raise AuthError(f"signature does not verify with the key named by iss: {error}") from None

        subject = claims.get("sub")
        if not isinstance(subject, str) or subject.count(".") < 1:
            raise AuthError("sub is not <ACCOUNT>.<USER>")
        if subject != subject.upper():
            raise AuthError("sub must be upper-case")
        if issuer_subject != subject:
            raise AuthError("iss does not start with sub")
        if self._subject is not None and subject != self._subject:
            raise AuthError("sub names another account or user")

        issued_at, expires_at = claims.get("iat"), claims.get("exp")
        if not isinstance(issued_at, (int, float)) or not isinstance(expires_at, (int, float)):
            raise AuthError("iat and exp must both be numbers")
        now = self._clock()
        if expires_at <= now:
            raise expired_token_error()
        if issued_at > now + CLOCK_SKEW_SECS:
            raise AuthError("iat is in the future")
        if expires_at - issued_at > MAX_LIFETIME_SECS:
            raise AuthError("exp is more than one hour after iat")
