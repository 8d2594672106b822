"""The spectrogram inspector: waveform and spectrogram of one file with linked zoom/pan and a hover readout,
live spectrogram settings, the exact image the CNN sees for a selected window, playback with a playhead,
and PNG/CSV export.

It shows state and sends requests: decoding and spectrograms run in ``InspectWorker`` (newest request
wins), values, windows and exports come from ``core.inspection``, sound from ``core.playback``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.audio.files import is_audio_file
from audionet_gui.core.audio.playback import PlaybackError, Player
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.base.jobs import Progress
from audionet_gui.core.base.words import count
from audionet_gui.core.inspect.inspection import (
    FileInspection,
    Readout,
    SpectrogramDisplay,
    WaveReadout,
    export_image_png,
    export_values_csv,
    inspect_file,
    list_windows,
    spectrogram_display,
    wave_readout,
    window_at,
    window_image,
    window_starting_at,
)
from audionet_gui.core.settings import ImageSettings
from audionet_gui.qt.inspect_worker import InspectWorker
from audionet_gui.ui.dialogs.folder_dialog import AUDIO_FILTER, start_dir
from audionet_gui.ui.theme import error_text_style, muted_text_style
from audionet_gui.ui.widgets.cnn_image_view import CnnWindowBox
from audionet_gui.ui.widgets.linked_views import LinkedViews
from audionet_gui.ui.widgets.playback_control import PlaybackControl
from audionet_gui.ui.widgets.saliency_overlay import SaliencyOverlay
from audionet_gui.ui.widgets.settings_form import SettingsForm
from audionet_gui.ui.widgets.spectrogram_view import clock_text

# Changing these only changes the drawing; any other spectrogram setting (a new one too) needs new values.
_DRAWING_FIELDS = ("colormap", "db_range", "ref", "image_width", "image_height")
PARAMETER_DEBOUNCE_MS = 250


def _values_differ(a: SpectrogramConfig, b: SpectrogramConfig) -> bool:
    return replace(a, **{name: getattr(b, name) for name in _DRAWING_FIELDS}) != b


class InspectorPanel(QWidget):
    status = Signal(str)                       # one line for the main window's status bar
    settings_edited = Signal(object)           # ImageSettings the user set in the Inspect page's settings form
    loaded = Signal(str)                       # a file's views are filled
    spectrogram_updated = Signal()             # the spectrogram view shows the current settings
    image_updated = Signal()                   # the CNN image shows the current window and settings
    exported = Signal(str)                     # an export finished: its path
    playback_stopped = Signal()                # playback ended or was stopped
    explain_requested = Signal(str, float)     # saliency wanted for the window of this file starting here

    def __init__(self, parent: QWidget | None = None, player: Player | None = None, state=None):
        super().__init__(parent)
        self.worker = InspectWorker(self)
        self.playback = PlaybackControl(player, self)
        self.player = self.playback.player
        self.settings = ImageSettings()                  # the project's settings, as the form shows them
        self.resolved = self.settings.with_image_size(*SpectrogramConfig().image_size)  # drawn: at an image size
        self.spectrogram_cfg, self.window_cfg = self.resolved.spectrogram, self.resolved.window
        self.inspection: FileInspection | None = None
        self.window_index: int | None = None
        self.cnn_image: np.ndarray | None = None
        self._path: str | None = None
        self._pending_window_start: float | None = None
        self._pending_play = False
        self._image_request: tuple[int, SpectrogramConfig] | None = None
        self._windows_request = self.window_cfg
        self._last_dir = str(Path.home())
        self.state = state
        self._build()
        self.controls.set_settings(self.settings, self.resolved)

        self._param_timer = QTimer(self, singleShot=True, interval=PARAMETER_DEBOUNCE_MS)
        self._param_timer.timeout.connect(self._apply_controls)
        self.playback.position.connect(self.views_stack.set_playhead)
        self.playback.stopped.connect(self._playback_ended)
        self.controls.edited.connect(lambda _settings: self._param_timer.start())
        self.worker.finished.connect(self._on_job_finished)
        self.worker.failed.connect(self._on_job_failed)
        self.worker.progress.connect(self._on_job_progress)
        self.worker.busy_changed.connect(lambda busy: self.busy.setVisible(busy))
        self.spectrogram.hovered.connect(self._on_spectrogram_hover)
        self.waveform.hovered.connect(self._on_waveform_hover)
        self.views_stack.clicked.connect(self._select_window_at)
        self.cnn_box.window_chosen.connect(self.select_window)
        self.play_button.clicked.connect(lambda: self.toggle_play(window_only=False))
        self.play_window_button.clicked.connect(lambda: self.toggle_play(window_only=True))
        self.export_csv_button.clicked.connect(self._export_values_dialog)
        play_key = QShortcut(QKeySequence(Qt.Key_Space), self, context=Qt.WidgetWithChildrenShortcut)
        play_key.activated.connect(lambda: self.toggle_play(window_only=False))
        self.cnn_box.save_button.clicked.connect(self._export_image_dialog)
        self._set_file_actions_enabled(False)
        self.setAcceptDrops(True)
        if state is not None:  # ui.state.AppState: a clip of the previous project does not stay
            state.project_changed.connect(self.clear)

    # -- layout ---------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.file_label = QLabel("No clip")
        bold = QFont(self.file_label.font())
        bold.setBold(True)
        self.file_label.setFont(bold)
        self.info_label = QLabel(styleSheet=muted_text_style())
        self.busy = QLabel("Working…", styleSheet=muted_text_style())
        self.busy.hide()
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the whole clip; press again to stop (Space)")
        self.play_window_button = QPushButton("Play window")
        self.play_window_button.setToolTip("Play only the selected window: what the CNN hears as one image")
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open an audio file to inspect (File > Open Audio…)")
        self.open_button.clicked.connect(self.ask_open)
        self.export_csv_button = QPushButton("Export values…")
        self.export_csv_button.setToolTip("Save the spectrogram values as CSV (time_s, freq_hz, db)")
        self.message = QLabel(wordWrap=True, styleSheet=error_text_style())
        self.message.hide()

        top = QHBoxLayout()
        top.addWidget(self.file_label)
        top.addWidget(self.info_label)
        top.addStretch(1)
        top.addWidget(self.busy)
        top.addWidget(self.open_button)
        top.addWidget(self.play_button)
        top.addWidget(self.play_window_button)
        top.addWidget(self.export_csv_button)
        self.saliency_toggle = QCheckBox("Why? (saliency)")
        self.saliency_toggle.setToolTip("Show in red where the model looked to answer for the selected window "
                                        "(needs a trained or opened model)")
        self.saliency_toggle.toggled.connect(self._on_saliency_toggled)
        top.addWidget(self.saliency_toggle)

        self.controls = SettingsForm(compact=True)  # the project's settings; the Train page shows the same
        hint = QLabel("Scroll to zoom, drag to pan (both views move together). Click a view to pick the "
                      "window the CNN sees. Hover the spectrogram to read time, frequency and level.",
                      wordWrap=True, styleSheet=muted_text_style())
        left = QVBoxLayout()
        left.addWidget(self.controls)
        left.addWidget(hint)
        left.addStretch(1)
        left_widget = QWidget()
        left_widget.setLayout(left)
        left.setContentsMargins(0, 0, 0, 0)
        left_scroll = QScrollArea()
        left_scroll.setWidget(left_widget)
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QFrame.NoFrame)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        left_scroll.setFixedWidth(320)

        self.views_stack = LinkedViews()
        self.waveform, self.spectrogram = self.views_stack.waveform, self.views_stack.spectrogram
        self.saliency = SaliencyOverlay()
        self.spectrogram.plot.addItem(self.saliency)
        self.saliency.hide()
        self.placeholder = self.views_stack.placeholder
        self.views_stack.open_requested.connect(self.ask_open)

        self.cnn_box = CnnWindowBox()
        self.cnn_view = self.cnn_box.view
        self.window_spin = self.cnn_box.window_spin
        self.export_png_button = self.cnn_box.save_button

        middle = QHBoxLayout()
        middle.addWidget(left_scroll)
        middle.addWidget(self.views_stack, 1)
        middle.addWidget(self.cnn_box)

        self.readout = self.views_stack.readout  # floats next to the cursor; hidden when it leaves the views
        mono = QFont("monospace")
        mono.setStyleHint(QFont.Monospace)
        self.readout.setFont(mono)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addLayout(middle, 1)

    def _set_file_actions_enabled(self, enabled: bool) -> None:
        for widget in (self.play_button, self.play_window_button, self.export_csv_button, self.export_png_button,
                       self.window_spin):
            widget.setEnabled(enabled)

    # -- requests from the shell ----------------------------------------------------------------------------------
    def set_settings(self, settings: ImageSettings, resolved: ImageSettings | None = None) -> None:
        """Adopt the project's settings (shown in the form) and the same resolved for the backbone (drawn: the
        exact CNN image); a shown file is redrawn with them. Without ``resolved``, ``settings`` are drawn (at
        their own image size, or the one shown now while they leave it to the backbone)."""
        if resolved is None:
            resolved = settings if settings.resolved else settings.with_image_size(*self.resolved.image_size)
        self.settings, self.resolved = settings, resolved
        self.controls.set_settings(settings, resolved)
        self._adopt(resolved)

    def _adopt(self, resolved: ImageSettings) -> None:
        old_spec, old_win = self.spectrogram_cfg, self.window_cfg
        spectrogram_cfg, window_cfg = resolved.spectrogram, resolved.window
        if (spectrogram_cfg, window_cfg) == (old_spec, old_win):
            return
        self.spectrogram_cfg, self.window_cfg = spectrogram_cfg, window_cfg
        if self.inspection is None:
            if self._path is not None and self.worker.is_busy("load"):
                self.show_file(self._path)  # restart the load with the new settings
            return
        if spectrogram_cfg.sample_rate != self.inspection.sample_rate:
            self.show_file(self.inspection.path)
            return
        if window_cfg != old_win:
            self._request_windows()
        self._redraw_for(old_spec)

    def clear(self, *_args) -> None:
        """Show no clip (another project was opened): stop, drop pending work, back to the placeholder."""
        self.stop()
        self.worker.cancel_all()
        self._path = None
        self.inspection = None
        self.window_index = None
        self.cnn_image = None
        self._pending_window_start = None
        self._pending_play = False
        self._image_request = None
        self.views_stack.show_placeholder()
        self.cnn_box.clear("No window selected")
        self.cnn_box.set_window_count(0)
        self._set_file_actions_enabled(False)
        self.message.hide()
        self.file_label.setText("No clip")
        self.info_label.setText("")

    def show_file(self, path) -> None:
        """Load ``path`` (off the GUI thread) and show it; the first window is selected."""
        self.stop()
        self.worker.cancel_all()
        self._path = str(path)
        self.inspection = None
        self.window_index = None
        self.cnn_image = None
        self._pending_window_start = None
        self._pending_play = False
        self._image_request = None
        self.views_stack.clear_data()
        self.saliency.clear_explanation()
        self.cnn_box.clear("Loading…")
        self._set_file_actions_enabled(False)
        self.message.hide()
        self.file_label.setText(Path(path).name)
        self.views_stack.show_views()
        self.info_label.setText("loading…")
        self._status(f"Loading {Path(path).name}…")
        self.worker.submit("load", inspect_file, self._path, self.spectrogram_cfg, self.window_cfg)

    def show_window(self, path, start_s: float, play: bool = False) -> None:
        """Show ``path`` with the window starting nearest ``start_s`` selected (e.g. a misclassified window);
        ``play``: and play that window once it is there (a point of the feature map)."""
        if self.inspection is not None and self.inspection.path == str(path):
            self.select_window(window_starting_at(self.inspection.windows, start_s))
            if play:
                self.stop()
                self.play(window_only=True)
            return
        if not (self.inspection is None and self._path == str(path) and self.worker.is_busy("load")):
            self.show_file(path)  # (unless that very file is loading already)
        self._pending_window_start = float(start_s)
        self._pending_play = play

    def select_window(self, index: int | None) -> None:
        if self.inspection is None or index is None or not 0 <= index < len(self.inspection.windows):
            return
        self.window_index = index
        window = self.inspection.windows[index]
        self.views_stack.set_window(window.start_s, window.end_s)
        self.cnn_box.show_window(index, window.start_s, window.end_s, window.padded)
        self._request_image()
        self._request_saliency()

    # -- saliency (the explain controller computes it) -------------------------------------------------------------
    def _on_saliency_toggled(self, on: bool) -> None:
        if on:
            self._request_saliency()
        else:
            self.saliency.clear_explanation()

    def _request_saliency(self) -> None:
        self.saliency.clear_explanation()
        if self.saliency_toggle.isChecked() and self.inspection is not None and self.window_index is not None:
            self.explain_requested.emit(self.inspection.path, self.inspection.windows[self.window_index].start_s)

    def show_saliency(self, explanation) -> None:
        """Draw a map computed for this file (one for another file or a toggle switched off is dropped)."""
        if (self.saliency_toggle.isChecked() and self.inspection is not None
                and Path(explanation.path) == Path(self.inspection.path)):
            self.saliency.show_explanation(explanation, self.inspection.display.spectrogram.freqs_hz)
            self._status(f"{explanation.label} (p = {explanation.p:.2f}): red is where the model looked "
                         f"({explanation.method})")

    def ask_open(self) -> None:
        """File > Open Audio… and the Open buttons: choose a file (from the project's folder) and show it."""
        project = self.state.project if self.state is not None else None
        path, _ = QFileDialog.getOpenFileName(self, "Open an audio file to inspect", start_dir(project, self._last_dir),
                                              AUDIO_FILTER)
        if path:
            self._last_dir = str(Path(path).parent)
            self.show_file(path)

    # -- drops: an audio file dropped on the inspector is shown --------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if self._dropped_audio(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_audio(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.show_file(path)

    @staticmethod
    def _dropped_audio(mime) -> str | None:
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile() and is_audio_file(url.toLocalFile()):
                return url.toLocalFile()
        return None

    def shutdown(self) -> None:
        """Stop sound and background work (call before the application quits)."""
        self.stop()
        self.worker.shutdown()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- playback ---------------------------------------------------------------------------------------------------
    def toggle_play(self, window_only: bool = False) -> None:
        if self.playback.playing:
            self.stop()
        else:
            self.play(window_only)

    def play(self, window_only: bool = False) -> bool:
        """Play the clip (or the selected window); a missing device is shown as a message. True when playing."""
        if self.inspection is None:
            return False
        start, end = 0.0, None
        if window_only and self.window_index is not None:
            window = self.inspection.windows[self.window_index]
            start, end = window.start_s, window.end_s
        try:
            self.playback.play(self.inspection.samples, self.inspection.sample_rate, start_s=start, end_s=end)
        except PlaybackError as exc:
            self._show_message(str(exc))
            return False
        self.message.hide()
        (self.play_window_button if window_only else self.play_button).setText("Stop")
        return True

    def stop(self) -> None:
        self.playback.stop()

    def _playback_ended(self) -> None:
        self.play_button.setText("Play")
        self.play_window_button.setText("Play window")
        self.playback_stopped.emit()

    # -- exports ----------------------------------------------------------------------------------------------------
    def export_cnn_image(self, path) -> None:
        """Write the shown CNN image as PNG (atomic)."""
        if self.cnn_image is None:
            raise RuntimeError("no window image to save yet")
        export_image_png(self.cnn_image, path)
        self._status(f"Saved the CNN image to {path}")
        self.exported.emit(str(path))

    def export_values_csv(self, path) -> None:
        """Write the spectrogram values (time_s, freq_hz, db) of the whole file as CSV, off the GUI thread;
        ``exported`` is emitted when the file is complete."""
        if self.inspection is None:
            raise RuntimeError("no file shown")
        display = self.inspection.display
        self.worker.submit("export", self._write_csv, display, str(path))

    @staticmethod
    def _write_csv(display: SpectrogramDisplay, path: str, progress=None, cancel=None) -> tuple[str, int]:
        rows = export_values_csv(display.spectrogram, path, display.frame_s, progress=progress, cancel=cancel)
        return path, rows

    def _export_image_dialog(self) -> None:
        if self.cnn_image is None or self.inspection is None:
            return
        stem = Path(self.inspection.path).stem
        default = str(Path(self._last_dir) / f"{stem}_window{(self.window_index or 0) + 1:03d}.png")
        path, _ = QFileDialog.getSaveFileName(self, "Save the CNN image", default, "PNG images (*.png)")
        if path:
            self._last_dir = str(Path(path).parent)
            self._guarded(self.export_cnn_image, path)

    def _export_values_dialog(self) -> None:
        if self.inspection is None:
            return
        default = str(Path(self._last_dir) / f"{Path(self.inspection.path).stem}_spectrogram.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export spectrogram values", default, "CSV files (*.csv)")
        if path:
            self._last_dir = str(Path(path).parent)
            self.export_values_csv(path)

    def _guarded(self, fn, *args) -> None:
        try:
            fn(*args)
        except (OSError, RuntimeError) as exc:
            self._show_message(f"Could not save: {exc}")

    # -- parameters ------------------------------------------------------------------------------------------------
    def _apply_controls(self) -> None:
        """The form's settings (debounced) are drawn at once and sent to the project (``settings_edited``)."""
        edited = self.controls.settings()
        if edited == self.settings:
            return
        self.settings = edited
        self.resolved = edited if edited.resolved else edited.with_image_size(*self.resolved.image_size)
        self._adopt(self.resolved)
        self.settings_edited.emit(edited)

    def _redraw_for(self, old: SpectrogramConfig) -> None:
        """Bring the views up to ``self.spectrogram_cfg``, recomputing values only when they change."""
        if self.inspection is None:
            return
        cfg = self.spectrogram_cfg
        if _values_differ(cfg, self.inspection.display.config):
            self.worker.submit("spectrogram", spectrogram_display, self.inspection.samples, cfg)
        elif cfg != self.inspection.display.config:
            self.inspection.display = replace(self.inspection.display, config=cfg)
            self.spectrogram.set_display(self.inspection.display, self.inspection.duration_s, keep_range=True)
            self.spectrogram_updated.emit()
        if cfg != old or self._image_request is None or self._image_request[1] != cfg:
            self._request_image()

    def _request_windows(self) -> None:
        self._windows_request = self.window_cfg
        self.worker.submit("windows", list_windows, self.inspection.samples, self.inspection.sample_rate,
                           self.window_cfg)

    def _request_image(self) -> None:
        if self.inspection is None or self.window_index is None:
            return
        self._image_request = (self.window_index, self.spectrogram_cfg)
        self.worker.submit("image", window_image, self.inspection.windows[self.window_index], self.spectrogram_cfg)

    # -- results ---------------------------------------------------------------------------------------------------
    def _on_job_finished(self, kind: str, result) -> None:
        if kind == "load":
            self._on_loaded(result)
        elif kind == "spectrogram" and self.inspection is not None:
            self.inspection.display = result
            self.spectrogram.set_display(result, self.inspection.duration_s, keep_range=True)
            self._status("Spectrogram updated")
            self.spectrogram_updated.emit()
        elif kind == "windows" and self.inspection is not None:
            # only the windows: the spectrogram may have been recomputed meanwhile
            self.inspection.windows, self.inspection.window_config = result, self._windows_request
            self._fill_window_picker()
            self.select_window(window_at(result, self.spectrogram.visible_time_range()[0]) or 0)
        elif kind == "image" and self._image_request is not None:
            self.cnn_image = result
            cfg = self._image_request[1]
            self.cnn_box.show_image(result, f"{cfg.image_width} × {cfg.image_height} px, {cfg.kind}, {cfg.colormap}")
            self.image_updated.emit()
        elif kind == "export":
            path, rows = result
            self._status(f"Exported {rows:,} values to {path}")
            self.exported.emit(path)

    def _on_loaded(self, inspection: FileInspection) -> None:
        self.inspection = inspection
        duration = (clock_text(inspection.duration_s, 1.0) if inspection.duration_s >= 120
                    else f"{inspection.duration_s:.2f} s")
        windows = count(len(inspection.windows), "window")
        self.info_label.setText(f"{duration} · {inspection.sample_rate} Hz · {windows}")
        self.waveform.set_envelope(inspection.envelope)
        self.spectrogram.set_display(inspection.display, inspection.duration_s)
        self._fill_window_picker()
        self._set_file_actions_enabled(True)
        self.export_png_button.setEnabled(False)  # until the first image arrives
        if inspection.window_config != self.window_cfg:  # settings changed while loading
            self._request_windows()
        first = 0
        if self._pending_window_start is not None:
            first = window_starting_at(inspection.windows, self._pending_window_start) or 0
            self._pending_window_start = None
        self.select_window(first)
        if self._pending_play:
            self._pending_play = False
            self.play(window_only=True)
        self._redraw_for(inspection.display.config)
        self._status(f"{Path(inspection.path).name}: {inspection.duration_s:.2f} s, "
                     f"{count(len(inspection.windows), 'window')}")
        self.loaded.emit(inspection.path)

    def _fill_window_picker(self) -> None:
        self.cnn_box.set_window_count(len(self.inspection.windows) if self.inspection else 0)

    def _on_job_failed(self, kind: str, failure) -> None:
        if kind == "load":
            self.info_label.setText("")
            self.inspection = None
            self.cnn_box.clear("Could not load this file")
            self.cnn_box.set_window_count(0)
            self._set_file_actions_enabled(False)
            name = Path(self._path).name if self._path else "the file"
            self.file_label.setText(f"{name}: could not load")
            self.views_stack.show_placeholder(f"Could not load {name}: {failure}\n\n{LinkedViews.PLACEHOLDER}")
        self._show_message(str(failure))

    def _on_job_progress(self, kind: str, progress: Progress) -> None:
        percent = f" {progress.fraction:.0%}" if progress.total else ""
        self.busy.setText(f"{progress.stage}{percent}")
        if kind in ("load", "export"):
            self._status(f"{progress.stage}{percent} {progress.message}".strip())

    # -- hover and clicks -------------------------------------------------------------------------------------------
    def _on_spectrogram_hover(self, readout: Readout | None) -> None:
        self._show_readout(readout, self.spectrogram)

    def _on_waveform_hover(self, time_s: float | None) -> None:
        readout = None
        if time_s is not None and self.inspection is not None:
            readout = wave_readout(self.inspection.samples, self.inspection.sample_rate, time_s)
        self._show_readout(readout, self.waveform)

    def _show_readout(self, readout: Readout | WaveReadout | None, view) -> None:
        if readout is None:
            self.views_stack.hide_readout()
            return
        text = readout.text()
        self.views_stack.show_readout(text, view)
        self.status.emit(text)

    def _select_window_at(self, time_s: float) -> None:
        if self.inspection is not None:
            self.select_window(window_at(self.inspection.windows, time_s))

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()
        self._status(text)

    def _status(self, text: str) -> None:
        self.status.emit(text)
