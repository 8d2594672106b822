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


def test_identify_page_explains_the_window_its_answer_is_surest_about(qtbot, window, tmp_path):
    spec = small_spec(64, 48)
    model = write_bundle(tmp_path / "model", model=pitch_classifier({"low": 300.0, "high": 2000.0}, spec),
                         labels=["low", "high"], spec=spec, window=WindowConfig(window_s=1.0, hop_s=1.0))
    # mostly the high tone: the answer is "high", surest in a window of the high tone
    audio = write(tmp_path / "a.wav", np.concatenate([tone(300, 1.0, amp=0.4), tone(2000, 2.0, amp=0.4)])
                  + noise(3.0, amp=0.002))
    window.state.set_model(ModelInfo.read(model), adopt=True)
    page = window.identify_panel
    window.go_to("Identify")
    window.identify_file(str(audio))
    qtbot.waitUntil(lambda: page._why_window is not None, timeout=240000)
    assert page.why_box.isHidden()  # nothing is explained until asked
    page.saliency_toggle.setChecked(True)
    qtbot.waitUntil(lambda: page.why.overlay.explanation is not None, timeout=240000)
    e = page.why.overlay.explanation
    assert e.label == "high" and e.start == page._why_window[1] >= 1.0
    assert page.why_box.isVisible() and page.why.overlay.isVisible() and "high" in page.why_note.text()
    # the map peaks in the high tone's rows
    assert e.freqs_hz[int(np.argmax(e.values.sum(axis=1)))] > 1000
    page.saliency_toggle.setChecked(False)
    assert page.why.overlay.explanation is None and page.why_box.isHidden()
