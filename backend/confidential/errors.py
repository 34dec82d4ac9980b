"""The errors of confidential evidence: each says what is wrong in words a user can act on."""


class ConfidentialError(ValueError):
    """Bad input: a key, a ciphertext, a binding or a manifest that does not check out."""


class NonDeterministicWallet(ConfidentialError):
    """The wallet signed the identity message twice with two different signatures: it cannot
    derive a stable identity (documents sent to one would not open with the other)."""


class BindingError(ConfidentialError):
    """A published recipient whose binding does not verify."""


class DecryptionError(ConfidentialError):
    """A ciphertext that does not open with the given identities: not encrypted to them,
    truncated or tampered with. Nothing of its plaintext is shown."""


class ManifestError(ConfidentialError):
    """A manifest that is malformed, or a document or ciphertext that does not match it."""
