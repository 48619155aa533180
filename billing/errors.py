"""The one exception family of the billing service. Its message is one clear line for the user."""


class BillingError(Exception):
    """Something the caller can fix: unknown user, bad amount, missing set-up. CLI exit code 2."""


class InsufficientCredits(BillingError):
    """A reservation asked for more credits than the account's usable lots hold."""


class DuplicateEntry(BillingError):
    """The ledger already holds an entry for this (account, reason, reference).

    Raised from the database's unique index, never from a read-then-write check; settlement
    turns it into "already settled".
    """


class NotFound(BillingError):
    """An id that names nothing the caller may see (another user's is as unknown as none)."""


class Conflict(BillingError):
    """A repeat that does not match what was first done (another amount, another hash)."""
