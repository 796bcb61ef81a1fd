"""The one error the PKI raises: a plain message a person (or operator) can act on."""


class PkiError(Exception):
    """The PKI files are missing, damaged, or the passphrase does not open them."""
