"""Staff password hashing: argon2id at OWASP's parameters. The only importer of argon2."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 degree of parallelism.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 12


def hash_password(password):
    """The argon2id hash to store."""
    return _HASHER.hash(password)


def check_password(stored_hash, password):
    """True when ``password`` matches ``stored_hash`` (constant time inside argon2)."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash):
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)
