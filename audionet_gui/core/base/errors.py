"""Typed errors. Every error about a file names the file and says the reason in words a user understands."""

from __future__ import annotations

from pathlib import Path


class AudioNetError(Exception):
    """Base of every error the engine raises on purpose."""


class AudioFileError(AudioNetError):
    """A file could not be used as audio. ``reason`` is a short, user-facing sentence."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class EmptyFileError(AudioFileError):
    pass


class NotAudioError(AudioFileError):
    pass


class TruncatedAudioError(AudioFileError):
    pass


class InvalidSamplesError(AudioFileError):
    """NaN or infinite samples."""


class SilentAudioError(AudioFileError):
    pass


class UnreadableFileError(AudioFileError):
    """Missing file, or no permission to read it."""


class DatasetError(AudioNetError):
    """The dataset as a whole cannot be used (no classes, a class without audio, ...)."""


class WeightsUnavailableError(AudioNetError):
    """Pretrained weights are needed but cannot be had (offline, no file given)."""


class BundleError(AudioNetError):
    """A model bundle is missing, broken or does not match what is asked of it."""
