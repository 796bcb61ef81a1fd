"""Errors a service raises for a person to read. Views show the message as it is."""


class ServiceError(Exception):
    """The request cannot be done; the message says why in plain words. Nothing was changed."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """Missing, or not the person's to see (the two are not told apart, on purpose)."""

    status = 404

    def __init__(self, message: str = "That record does not exist or is not yours to see."):
        super().__init__(message)


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    """Someone else changed the record first; reloading shows what happened."""

    status = 409
