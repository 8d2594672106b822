"""Render the Live page listening to the virtual microphone while the demo conversation plays into it, and save
docs/screenshots/live.png. Real decisions from a real model: nothing on the page is faked.

    eval "$(bash scripts/virtual_mic.sh start)"
    .venv/bin/python -m audionet_gui.cli train resources/demo/train --test-dir resources/demo/test \
        --backbone small_cnn --weights none --out /tmp/demo-model      # about a minute on 2 cores
    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshot_live.py --model /tmp/demo-model

Settings go to a temporary folder (the user's are untouched). ``--theme dark`` renders the dark theme.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings

from audionet_gui.__main__ import create_app
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.ui.pages.live_panel import LivePanel, record_targets
from audionet_gui.ui.theme import apply_theme
from audionet_gui.ui.window.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wait_until(app, predicate, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit(f"screenshot_live: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a model folder trained on the demo")
    parser.add_argument("--clip", default=str(ROOT / "resources" / "demo" / "conversation.wav"))
    parser.add_argument("--listen-s", type=float, default=9.0, help="seconds of the clip heard before the shot")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    args = parser.parse_args()
    if not os.environ.get("XDG_RUNTIME_DIR"):
        raise SystemExit("screenshot_live: start the virtual microphone first: "
                         'eval "$(bash scripts/virtual_mic.sh start)"')
    tmp = Path(tempfile.mkdtemp(prefix="audionet-live-shot-"))
    os.environ.setdefault("AUDIONET_CACHE_DIR", str(tmp / "cache"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    app = create_app()
    apply_theme(app, args.theme)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.IniFormat)
    settings.setValue("live/device", "pulse")  # PortAudio's PulseAudio device: the virtual microphone
    window = MainWindow(settings, output_root=tmp / "projects")
    window.resize(1240, 800)
    window.show()
    window.open_demo()
    panel = window.live_panel
    if not isinstance(panel, LivePanel):
        raise SystemExit("screenshot_live: the main window has no Live page")
    panel.settings = settings
    panel.refresh_devices()
    bundle = load_bundle(args.model)
    panel.set_model(args.model, bundle.labels, bundle.unknown_threshold)
    panel.set_bundle(bundle)
    panel.set_classes(record_targets(window.project))
    window.go_to("Live")
    panel.start_listening()
    wait_until(app, lambda: panel.listening, 60, "listening to start")
    player = subprocess.Popen(["paplay", "--device=vspeaker", args.clip])
    started = time.monotonic()
    try:
        # the redraw rate once audio flows (PulseAudio takes about a second to deliver the first block)
        wait_until(app, lambda: panel.spectrogram.columns_received > 0, 10, "the first audio")
        t0, frames0 = time.monotonic(), panel.spectrogram.frames_drawn
        end = started + args.listen_s
        wait_until(app, lambda: time.monotonic() > end, args.listen_s + 5, "the clip")
    finally:
        shot = Path(args.out) / ("live.png" if args.theme == "light" else "live-dark.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(shot))
        print(f"screenshot_live: wrote {shot}; last answer: {panel.answer.text()!r}, {panel.latency.text()}")
        fps = (panel.spectrogram.frames_drawn - frames0) / (time.monotonic() - t0)
        print(f"screenshot_live: spectrogram redrawn {fps:.1f} frames/s")
        segments = [(round(s.start_s, 1), round(s.end_s, 1), s.label) for s in panel.worker.timeline()]
        print(f"screenshot_live: timeline {segments}")
        player.terminate()
        player.wait()
        panel.shutdown()
        window._dirty = False
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
