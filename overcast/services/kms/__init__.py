"""KMS: keys with real cryptography (AES-256-GCM, RSA, ECC, HMAC), key policies and grants evaluated by the
policy engine, aliases, rotation, scheduled deletion, multi-Region keys and imported key material.

Follows the AWS KMS API Reference (2014-11-01) and the KMS Developer Guide (key states, default key policy).
"""
