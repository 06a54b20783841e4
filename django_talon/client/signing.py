"""The legacy ``Content-Signature`` of the v1 Integration API (``integration_auth``).

Talon.One's original clients signed the exact request body with HMAC-MD5, keyed with the
hex-decoded application key, and sent ``Content-Signature: signer=<applicationId>;
signature=<lowercase hex>``. Only v1 endpoints accept it; v2 endpoints only know
``Authorization: ApiKey-v1``. MD5 is what the API defines, not a choice made here.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac

from .errors import TalonValidationError

__all__ = ["content_signature", "sign_body"]


def sign_body(body: bytes, application_key: str) -> str:
    """Return the lowercase hex HMAC-MD5 of ``body`` keyed with ``unhex(application_key)``."""
    try:
        key = binascii.unhexlify(application_key.strip())
    except (binascii.Error, ValueError) as exc:
        # Never echo the key itself: it is a secret.
        raise TalonValidationError(
            "must be a hex string (as shown in Campaign Manager)", field="application_key"
        ) from exc
    return hmac.new(key, body, hashlib.md5).hexdigest()


def content_signature(body: bytes, application_id: int, application_key: str) -> str:
    """Return the ``Content-Signature`` header value for ``body``."""
    return f"signer={application_id}; signature={sign_body(body, application_key)}"
