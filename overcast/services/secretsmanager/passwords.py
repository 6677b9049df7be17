"""GetRandomPassword: Secrets Manager's character classes and rules, from the `secrets` module's CSPRNG."""

from __future__ import annotations

import secrets
import string

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


class PasswordError(ValueError):
    pass


def random_password(
    length: int = 32,
    exclude: str = "",
    *,
    numbers: bool = True,
    punctuation: bool = True,
    uppercase: bool = True,
    lowercase: bool = True,
    space: bool = False,
    each_type: bool = True,
) -> str:
    classes = [
        chars
        for chars, wanted in (
            (string.ascii_lowercase, lowercase),
            (string.ascii_uppercase, uppercase),
            (string.digits, numbers),
            (PUNCTUATION, punctuation),
            (" ", space),
        )
        if wanted
    ]
    classes = [c for c in ("".join(ch for ch in chars if ch not in exclude) for chars in classes) if c]
    if not classes:
        raise PasswordError("The password must contain at least one character type.")
    if each_type and length < len(classes):
        raise PasswordError("The password length is too short to include every required character type.")
    pool = "".join(classes)
    while True:
        password = "".join(secrets.choice(pool) for _ in range(length))
        if not each_type or all(any(ch in chars for ch in password) for chars in classes):
            return password
