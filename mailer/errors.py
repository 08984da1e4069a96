"""One base exception for mail out; delivery errors say whether retrying can help."""


class MailerError(Exception):
    """Base of every mailer failure."""


class TemplateError(MailerError):
    """A template set is missing or does not render."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"template {name}: {message}")
        self.name = name


class DeliveryError(MailerError):
    """A message could not be handed over; `permanent` means retrying will not help."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
