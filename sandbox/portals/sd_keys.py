"""sd-portal signing keys: RS256 keys generated at start, published in the JWKS. ``rotate``
adds a new key (new ``kid``) and signs with it from then on, as a real portal's key rollover
does; ``stranger`` is a key never published (for the "bad signature" fault)."""
from __future__ import annotations

import secrets
import threading

from joserfc.jwk import KeySet, RSAKey


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"},
                               private=True)


class SigningKeys:
    def __init__(self):
        self._lock = threading.Lock()
        self._published = [_new_key()]
        self._stranger: RSAKey | None = None

    @property
    def current(self) -> RSAKey:
        with self._lock:
            return self._published[-1]

    @property
    def stranger(self) -> RSAKey:
        with self._lock:
            if self._stranger is None:
                self._stranger = _new_key()
            return self._stranger

    def rotate(self) -> str:
        key = _new_key()
        with self._lock:
            self._published.append(key)
        return key.kid

    def jwks(self) -> dict:
        with self._lock:
            return KeySet(list(self._published)).as_dict(private=False)
