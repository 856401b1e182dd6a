"""The one error an import raises: what is wrong, and on which line of the file."""


class ImportFailed(ValueError):
    """The file cannot be imported; ``line`` (1-based) says where, when one line is at fault."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self):
        return f"line {self.line}: {self.message}" if self.line else self.message
