"""Render the spectrogram inspector on its own and save docs/screenshots/inspector.png.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshot_inspector.py

The clip is George counting 0..9 from ../shared/data/fsdd_speakers (CC BY-SA 4.0) joined with short pauses,
or a generated chirp over a 1 kHz tone when that folder is missing. ``--long MINUTES`` inspects a generated
file of that length instead and prints how long loading took and the longest GUI stall while it loaded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from audionet_gui.core.audio.files import load_audio, write_wav
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.ui.pages.inspector import InspectorPanel
from audionet_gui.ui.theme import apply_theme

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FSDD = ROOT.parent / "shared" / "data" / "fsdd_speakers" / "george"


def demo_clip(path: Path, sr: int = 16000) -> None:
    if FSDD.is_dir():
        gap = np.zeros(int(0.15 * sr), np.float32)
        parts = []
        for digit in range(10):
            parts += [load_audio(FSDD / f"{digit}_george_7.wav", sr), gap]
        samples = np.concatenate(parts)
    else:
        t = np.arange(int(4 * sr)) / sr
        samples = (0.4 * np.sin(2 * np.pi * (200 * t + 600 * t ** 2)) + 0.2 * np.sin(2 * np.pi * 1000 * t))
    write_wav(path, samples.astype(np.float32), sr)


def long_clip(path: Path, minutes: float, sr: int = 16000) -> None:
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", sr, 1, "PCM_16") as fh:
        for minute in range(int(np.ceil(minutes))):
            t = np.arange(60 * sr) / sr
            tone = 0.3 * np.sin(2 * np.pi * (300 + 20 * minute) * t)
            fh.write((tone + 0.02 * rng.standard_normal(t.size)).astype(np.float32))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="PNG to write (default docs/screenshots/inspector.png; "
                        "with --long only when given)")
    parser.add_argument("--long", type=float, default=0.0, help="inspect a generated file this many minutes long")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    apply_theme(app, "light")
    tmp = Path(tempfile.mkdtemp(prefix="audionet-inspector-"))
    clip = tmp / "clip.wav"
    (long_clip(clip, args.long) if args.long else demo_clip(clip))

    panel = InspectorPanel()
    panel.resize(1240, 720)
    panel.set_configs(SpectrogramConfig(image_width=224, image_height=224), WindowConfig())
    panel.show()

    # heartbeat: the longest gap between 10 ms timer ticks is the longest GUI stall
    clock, longest = QElapsedTimer(), [0]
    clock.start()

    def beat():
        longest[0] = max(longest[0], clock.restart())

    heart = QTimer(interval=10)
    heart.timeout.connect(beat)
    heart.start()

    def run_until(predicate, timeout_s):
        # one event loop per wait, as the application's own loop runs (no processEvents() spinning)
        end = time.monotonic() + timeout_s
        loop = QEventLoop()
        poll = QTimer(interval=10)
        poll.timeout.connect(lambda: (predicate() or time.monotonic() > end) and loop.quit())
        poll.start()
        loop.exec()
        poll.stop()
        if not predicate():
            raise SystemExit("screenshot_inspector: timed out")

    def pause(seconds):
        end = time.monotonic() + seconds
        run_until(lambda: time.monotonic() > end, seconds + 1)

    started = time.monotonic()
    panel.show_file(clip)
    run_until(lambda: panel.inspection is not None and panel.cnn_image is not None, 600)
    loaded_s = time.monotonic() - started
    stall_loading = longest[0]
    clock.restart()
    longest[0] = 0
    if args.long:
        # zoom in and out like a user: the views redraw from the overviews
        vb = panel.spectrogram.plot.vb
        for x0, x1 in ((0, panel.inspection.duration_s), (100, 160), (1000, 1002.5), (0, panel.inspection.duration_s)):
            vb.setXRange(x0, x1, padding=0)
            pause(0.3)
        print(f"long file: {args.long:g} min loaded in {loaded_s:.1f} s; longest GUI stall while loading "
              f"{stall_loading} ms, while zooming {longest[0]} ms (10 ms heartbeat)")
        if args.out:
            panel.grab().save(args.out)
        panel.shutdown()
        return 0

    panel.select_window(2)
    run_until(lambda: panel._image_request is not None and not panel.worker.is_busy(), 30)
    # a hover readout in the middle of the picture
    spec = panel.spectrogram
    readout = spec.readout_at(3.72, 38.5)
    spec.show_crosshair(3.72, 38.5)
    if readout is not None:
        panel.readout.setText(readout.text())
    pause(0.5)
    out = Path(args.out or ROOT / "docs" / "screenshots" / "inspector.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(out))
    print(f"wrote {out} (loaded in {loaded_s:.2f} s)")
    panel.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
