"""Confidential evidence: documents encrypted with age (age-encryption.org/v1) to the parties
of a deal, with encryption identities derived from their wallets (docs/confidential.md).

- identity: the X25519 identity an account derives from one signature of its wallet;
- binding: the account's signed statement "my recipient is age1…", checked by anyone;
- envelope: encryption and decryption of a document, streamed (pyrage);
- manifest: what the on-chain evidence hash of a confidential document commits to.
"""
