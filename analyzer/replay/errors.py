"""Replay's one error: a located reason the step cannot be replayed (a usage error for the CLI)."""


class ReplayError(Exception):
    """The run, checkpoint or dataset does not allow a replay; the message says what is missing."""
