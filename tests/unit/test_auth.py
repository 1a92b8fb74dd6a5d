import base64
import json
import time

import jwt
import pytest

from shared.auth import Principal, decode_token, hash_password, issue_token, token_hash, verify_password
from shared.errors import Unauthorized

SECRET = "s" * 48
P = Principal(tenant_id="acme", user_id="u1", email="a@acme.test", role="operator")


def test_token_roundtrip() -> None:
    assert decode_token(issue_token(P, SECRET, 60), SECRET) == P


def test_expired_token() -> None:
    token = issue_token(P, SECRET, 60, now=time.time() - 3600)
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(token, SECRET)


def test_wrong_secret_and_tampered_claims() -> None:
    token = issue_token(P, SECRET, 60)
    with pytest.raises(Unauthorized):
        decode_token(token, "other" * 10)
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["tid"] = "victim"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        decode_token(f"{header}.{forged}.{sig}", SECRET)


def test_alg_none_is_refused() -> None:
    claims = {
        "sub": "u1",
        "tid": "acme",
        "role": "admin",
        "aud": "iotcloud-operator",
        "exp": time.time() + 60,
    }
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(Unauthorized):
        decode_token(unsigned, SECRET)


def test_unknown_role_is_refused() -> None:
    claims = {"sub": "u1", "tid": "acme", "role": "root", "aud": "iotcloud-operator", "exp": time.time() + 60}
    with pytest.raises(Unauthorized):
        decode_token(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET)


def test_passwords() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2")
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "wrong")
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "x")


def test_token_hash_is_sha256_hex() -> None:
    assert token_hash("tok-abc") == "0b9f31c5403adf5a5676eafcf2ed391dec857be4b8d54e9ae0923a3d10f86e47"
