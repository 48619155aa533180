"""The one exception family: what the user can fix. Its message names the file, line or id."""


class CogniError(Exception):
    """A problem the user can fix (bad spec, unknown gate, unreadable diff). Exit code 2."""


class ConfigError(CogniError):
    """The spec or a gate's options are invalid."""


class GitError(CogniError):
    """git could not answer: missing revision, shallow clone, not a repository."""
