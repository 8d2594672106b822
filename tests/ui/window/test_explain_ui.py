"""The Inspect page's "Why?" toggle: the open model's saliency for the selected window is computed off the GUI
process and drawn over the spectrogram at that window's time; switching it off removes it."""

from __future__ import annotations

import numpy as np

from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.ui.state import ModelInfo
from tests.audio_factory import noise, tone, write
from tests.tiny_models import pitch_classifier, small_spec, write_bundle


def test_saliency_overlay_follows_the_toggle_and_the_window(qtbot, window, tmp_path):
    spec = small_spec(64, 48)
    model = write_bundle(tmp_path / "model", model=pitch_classifier({"low": 300.0, "high": 2000.0}, spec),
                         labels=["low", "high"], spec=spec, window=WindowConfig(window_s=1.0, hop_s=1.0))
    audio = write(tmp_path / "a.wav", np.concatenate([tone(300, 1.0, amp=0.4), tone(2000, 1.0, amp=0.4)])
                  + noise(2.0, amp=0.002))
    window.state.set_model(ModelInfo.read(model))
    inspector = window.inspector
    window.inspect_file(str(audio))
    qtbot.waitUntil(lambda: inspector.inspection is not None, timeout=20000)
    explained = []
    window.explainer.slot.finished.connect(explained.append)
    failures = []
    window.explainer.slot.failed.connect(lambda f: failures.append(f.message))
    inspector.saliency_toggle.setChecked(True)
    # a child process loads TensorFlow and the model: slow on a busy machine
    qtbot.waitUntil(lambda: inspector.saliency.explanation is not None or bool(failures), timeout=240000)
    assert not failures, failures
    e = inspector.saliency.explanation
    assert e.start == inspector.inspection.windows[inspector.window_index].start_s
    assert inspector.saliency.isVisible()
    rect = inspector.saliency.boundingRect()
    assert rect.width() > 0
    inspector.saliency_toggle.setChecked(False)
    assert inspector.saliency.explanation is None and not inspector.saliency.isVisible()
    assert len(explained) == 1
