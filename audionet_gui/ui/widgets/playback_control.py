"""Playback for the inspector: starts and stops ``core.playback.Player`` and polls its position with a
QTimer, so the views can draw a moving playhead. Errors stay ``PlaybackError`` for the caller to show."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from audionet_gui.core.audio.playback import Player

PLAYHEAD_INTERVAL_MS = 30


class PlaybackControl(QObject):
    position = Signal(object)  # seconds from the clip start, or None once playback has ended
    stopped = Signal()         # playback ended by itself or was stopped

    def __init__(self, player: Player | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.player = player or Player()
        self._timer = QTimer(self, interval=PLAYHEAD_INTERVAL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def play(self, samples: np.ndarray, sample_rate: int, start_s: float = 0.0,
             end_s: float | None = None) -> None:
        """Start playing; raises ``PlaybackError`` (nothing else changes) when no device can play."""
        self.stop()
        self.player.play(samples, sample_rate, start_s=start_s, end_s=end_s)
        self._timer.start()
        self._poll()

    def stop(self) -> None:
        was_playing = self.playing
        self.player.stop()
        if was_playing:
            self._end()

    def _poll(self) -> None:
        if self.player.playing:
            self.position.emit(self.player.position_s)
        else:
            self._end()

    def _end(self) -> None:
        self._timer.stop()
        self.position.emit(None)
        self.stopped.emit()
