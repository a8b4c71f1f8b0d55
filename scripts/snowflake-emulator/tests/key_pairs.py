"""RSA key pairs and Snowflake key-pair JWTs made at test time; no key is ever stored in the repo."""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class KeyPair:
    private_key: rsa.RSAPrivateKey
    public_pem: Path

    @property
    def fingerprint(self) -> str:
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def new_key_pair(directory: Path, name: str) -> KeyPair:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = directory / f"{name}.pub.pem"
    public_pem.write_bytes(
        private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return KeyPair(private_key, public_pem)


def key_pair_jwt(
    signer: KeyPair,
    account: str,
    user: str,
    *,
    fingerprint: str | None = None,
    issued_at: float | None = None,
    lifetime_secs: int = 3540,
    subject: str | None = None,
) -> str:
    """A token shaped like the official connector's: iss = ACCOUNT.USER.SHA256:fp, sub = ACCOUNT.USER."""
    now = int(issued_at if issued_at is not None else time.time())
    sub = subject if subject is not None else f"{account}.{user}"
    claims = {
        "iss": f"{account}.{user}.{fingerprint or signer.fingerprint}",
        "sub": sub,
        "iat": now,
        "exp": now + lifetime_secs,
    }
    return jwt.encode(claims, signer.private_key, algorithm="RS256")
