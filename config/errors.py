"""Errors raised while reading settings or the unit registry."""


class ConfigError(Exception):
    """A setting or registry entry is invalid; the message names the key and the fix."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class RegistryError(ConfigError):
    """The unit registry file is missing or malformed."""
