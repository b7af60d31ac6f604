"""Throwaway RSA keys for the GitHub App tests: made at run time, never committed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

APP_ID = 4242


@cache
def rsa_key(n: int = 0) -> Any:
    """An RSA private key (2048 bits, as GitHub issues them); `n` tells several apart."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def write_key(path: Path, key: Any = None, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pem(key if key is not None else rsa_key()))
    path.chmod(mode)
    return path


def key_canaries(key: Any = None) -> list[str]:
    """Lines of the PEM's body: none may show up anywhere but the key file itself."""
    lines = pem(key if key is not None else rsa_key()).decode().splitlines()
    return [line for line in lines if not line.startswith("-----")]
