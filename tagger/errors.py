"""Errors a user can act on. The message says what was wrong and what to do."""

from __future__ import annotations


class TaggerError(Exception):
    """Base class: printed by the CLI as one line, exit code 2."""

    exit_code = 2


class InputError(TaggerError):
    """An input file is missing, malformed or of an unsupported kind."""


class ModelError(TaggerError):
    """A model artifact is missing, incomplete or does not match this version."""

    exit_code = 3


class AudioError(InputError):
    """Audio that cannot be decoded or holds no speech."""
