"""The server side of Cognito's SRP-6a exchange (USER_SRP_AUTH's PASSWORD_VERIFIER challenge).

Cognito uses the 3072-bit group of RFC 5054 with g = 2, SHA-256, k = H(N | g), u = H(A | B) over padded hex,
x = H(salt | H(<pool name><user id>:<password>)) where the pool name is the part of the pool id after "_",
and a 16-byte HKDF key ("Caldera Derived Key") that signs <pool name><user id><secret block><timestamp>.
Clients (amazon-cognito-identity-js, Amplify, pycognito, the SDKs' helpers) compute the same numbers, so they
sign in unchanged. Written here because no maintained Python SRP library speaks Cognito's variant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7"
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C"
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
INFO = b"Caldera Derived Key\x01"


def pad_hex(value: int | str) -> str:
    """Hex of `value` padded as the clients pad it: even length, and a leading 00 when the top bit is set."""
    text = value if isinstance(value, str) else f"{value:x}"
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89abcdefABCDEF" else text


def _hash_hex(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


K = int(_hash_hex("00" + N_HEX + "0" + f"{G:x}"), 16)


def _x(pool_name: str, user_id: str, password: str, salt_hex: str) -> int:
    inner = hashlib.sha256(f"{pool_name}{user_id}:{password}".encode()).hexdigest()
    return int(_hash_hex(pad_hex(salt_hex) + inner), 16)


def new_verifier(pool_name: str, user_id: str, password: str) -> tuple[str, str]:
    """(salt hex, verifier hex) to store for a password: v = g^x mod N."""
    salt_hex = pad_hex(secrets.randbits(128))
    return salt_hex, f"{pow(G, _x(pool_name, user_id, password, salt_hex), N):x}"


def password_matches(pool_name: str, user_id: str, password: str, salt_hex: str, verifier_hex: str) -> bool:
    return pow(G, _x(pool_name, user_id, password, salt_hex), N) == int(verifier_hex, 16)


def server_challenge(verifier_hex: str) -> tuple[str, str]:
    """(b hex, B hex): the server's secret and public values, B = k*v + g^b mod N."""
    while True:
        b = secrets.randbits(256)
        big_b = (K * int(verifier_hex, 16) + pow(G, b, N)) % N
        if big_b:
            return f"{b:x}", f"{big_b:x}"


def valid_a(a_hex: str) -> bool:
    """Whether the client's public value A is usable (a hex number, A mod N != 0)."""
    try:
        return int(a_hex, 16) % N != 0
    except ValueError:
        return False


def _hkdf(ikm: bytes, salt: bytes) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, INFO, hashlib.sha256).digest()[:16]


def expected_signature(
    *,
    pool_name: str,
    user_id: str,
    verifier_hex: str,
    a_hex: str,
    b_hex: str,
    big_b_hex: str,
    secret_block: str,
    timestamp: str,
) -> str:
    """The PASSWORD_CLAIM_SIGNATURE a client holding the password computes (base64)."""
    big_a, big_b, b = int(a_hex, 16), int(big_b_hex, 16), int(b_hex, 16)
    u = int(_hash_hex(pad_hex(big_a) + pad_hex(big_b)), 16)
    s = pow(big_a * pow(int(verifier_hex, 16), u, N), b, N)
    key = _hkdf(bytes.fromhex(pad_hex(s)), bytes.fromhex(pad_hex(f"{u:x}")))
    message = pool_name.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def signature_matches(claimed: str, **values: str) -> bool:
    return hmac.compare_digest(claimed.encode(), expected_signature(**values).encode())
