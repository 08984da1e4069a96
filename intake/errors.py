"""One base exception for intake, with specific subclasses that carry context."""


class IntakeError(Exception):
    """Base of every intake failure."""


class SourceError(IntakeError):
    """The mailbox could not be reached or answered badly; the poll is retried later."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


class DocumentError(IntakeError):
    """An attachment could not be read; becomes a problem in the receipt, never a crash."""

    def __init__(self, filename: str, code: str, message: str) -> None:
        super().__init__(f"{filename}: {message}")
        self.filename = filename
        self.code = code
