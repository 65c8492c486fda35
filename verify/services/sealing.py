"""Sealing what must be read back but not kept readable in the store (a session's loan reference):
authenticated encryption with a key derived from ``VERIFY_HMAC_KEY``. The only importer of
``cryptography``."""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class Sealer:
    """Seals and opens short texts; built once by the factory."""

    def __init__(self, hmac_key, purpose=b"seal"):
        # A key of its own per purpose (loan references, reporters' contacts), derived from the secret.
        derived = hmac.new(hmac_key, purpose + b"|fernet", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, text):
        """The text encrypted and signed (None stays None)."""
        return None if text is None else self._fernet.encrypt(text.encode()).decode()

    def open(self, sealed):
        """The text back, or None (nothing sealed, or sealed under another key)."""
        if not sealed:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
