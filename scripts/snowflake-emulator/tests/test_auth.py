"""Authentication: only a valid RS256 key-pair JWT or the configured PAT runs anything; every bad
token gets 401 with Snowflake's JSON shape, and nothing runs."""

from __future__ import annotations

import time

import jwt
import pytest
from conftest import ACCOUNT, USER
from key_pairs import KeyPair, key_pair_jwt
from sqlapi_client import SqlApi


def bad_tokens(trusted: KeyPair, untrusted: KeyPair) -> dict[str, dict[str, str | None]]:
    """name -> the two auth headers to send (None leaves a header out)."""
    now = time.time()

    def jwt_headers(token: str, token_type: str | None = "KEYPAIR_JWT") -> dict[str, str | None]:
        return {"Authorization": f"Bearer {token}", "X-Snowflake-Authorization-Token-Type": token_type}

    good = key_pair_jwt(trusted, ACCOUNT, USER)
    unsigned = jwt.encode(
        {"iss": f"{ACCOUNT}.{USER}.{trusted.fingerprint}", "sub": f"{ACCOUNT}.{USER}", "iat": int(now), "exp": int(now) + 60},
        key="",
        algorithm="none",
    )
    hmac_signed = jwt.encode(
        {"iss": f"{ACCOUNT}.{USER}.{trusted.fingerprint}", "sub": f"{ACCOUNT}.{USER}", "iat": int(now), "exp": int(now) + 60},
        key="a shared secret that is long enough for HS256",
        algorithm="HS256",
    )
    return {
        # Signed by another key while naming the trusted key's fingerprint.
        "wrong key": jwt_headers(key_pair_jwt(untrusted, ACCOUNT, USER, fingerprint=trusted.fingerprint)),
        # Signed by the trusted key, naming another key's fingerprint.
        "wrong fingerprint": jwt_headers(key_pair_jwt(trusted, ACCOUNT, USER, fingerprint=untrusted.fingerprint)),
        "untrusted key, its own fingerprint": jwt_headers(key_pair_jwt(untrusted, ACCOUNT, USER)),
        "expired": jwt_headers(key_pair_jwt(trusted, ACCOUNT, USER, issued_at=now - 3000, lifetime_secs=2000)),
        "exp more than 1 h after iat": jwt_headers(key_pair_jwt(trusted, ACCOUNT, USER, lifetime_secs=3601)),
        "iat in the future": jwt_headers(key_pair_jwt(trusted, ACCOUNT, USER, issued_at=now + 600, lifetime_secs=60)),
        "other user": jwt_headers(key_pair_jwt(trusted, ACCOUNT, "SOMEONE_ELSE")),
        "lower-case account": jwt_headers(key_pair_jwt(trusted, ACCOUNT.lower(), USER)),
        "sub differs from iss": jwt_headers(key_pair_jwt(trusted, ACCOUNT, USER, subject=f"{ACCOUNT}.OTHER")),
        "alg none": jwt_headers(unsigned),
        "alg HS256": jwt_headers(hmac_signed),
        "garbage token": jwt_headers("not.a.jwt"),
        "missing token type header": jwt_headers(good, token_type=None),
        "wrong token type header": jwt_headers(good, token_type="OAUTH"),
        "JWT sent as a PAT": jwt_headers(good, token_type="PROGRAMMATIC_ACCESS_TOKEN"),
        "missing Authorization header": {"Authorization": None, "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"},
        "not a bearer token": {"Authorization": f"Basic {good}", "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"},
        "wrong PAT": {"Authorization": "Bearer not-the-token", "X-Snowflake-Authorization-Token-Type": "PROGRAMMATIC_ACCESS_TOKEN"},
    }


@pytest.fixture
def table(db: SqlApi) -> SqlApi:
    db.sql("CREATE TABLE T (ID NUMBER)")
    return db


def test_bad_tokens_get_401_and_run_nothing(table: SqlApi, trusted_key: KeyPair, untrusted_key: KeyPair) -> None:
    before = table.stats()
    for name, headers in bad_tokens(trusted_key, untrusted_key).items():
        refused = table.submit("INSERT INTO T VALUES (1)", headers=headers, auth=False)
        assert refused.status == 401, name
        assert refused.body["code"] == "390144", name
        assert refused.body["message"].startswith(("JWT token is invalid.", "Programmatic access token is invalid.")), name
        assert "statementHandle" not in refused.body, name
    after = table.stats()

    assert after["statements_executed"] == before["statements_executed"]
    assert after["submissions"] == before["submissions"]
    assert after["auth_failures"] - before["auth_failures"] == len(bad_tokens(trusted_key, untrusted_key))
    assert table.scalar("SELECT COUNT(*) FROM T") == "0"


def test_status_and_cancel_need_a_valid_token_too(table: SqlApi) -> None:
    handle = table.sql("SELECT 1").handle
    no_token = {"Authorization": None, "X-Snowflake-Authorization-Token-Type": None}
    assert table.request("GET", f"/api/v2/statements/{handle}", auth=False).status == 401
    cancel = table.request("POST", f"/api/v2/statements/{handle}/cancel", b"", headers=no_token, auth=False)
    assert cancel.status == 401


def test_valid_jwt_and_pat_both_run_statements(table: SqlApi, pat_value: str) -> None:
    assert table.sql("INSERT INTO T VALUES (1)").body["stats"]["numRowsInserted"] == 1
    pat_headers = {"Authorization": f"Bearer {pat_value}", "X-Snowflake-Authorization-Token-Type": "PROGRAMMATIC_ACCESS_TOKEN"}
    with_pat = table.submit("INSERT INTO T VALUES (2)", headers=pat_headers, auth=False)
    assert with_pat.status == 200, with_pat.body
    assert table.sql("SELECT ID FROM T ORDER BY ID").data == [["1"], ["2"]]


def test_fingerprint_is_sha256_of_the_der_public_key(trusted_key: KeyPair) -> None:
    # Cross-check with the emulator's own computation, which the loader's Rust code must match.
    from snowflake_emulator.auth import load_public_key

    assert load_public_key(trusted_key.public_pem).fingerprint == trusted_key.fingerprint
    assert trusted_key.fingerprint.startswith("SHA256:") and trusted_key.fingerprint.endswith("=")
