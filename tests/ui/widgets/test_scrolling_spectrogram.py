"""The Live page's scrolling spectrogram draws with the model's own settings: kind (frequency axis), colormap and
levels (``db_range`` below full scale or below the newest window's loudest cell)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from audionet_gui.core.audio.colormaps import colormap_lut
from audionet_gui.core.inspect.inspection import PITCH_CLASSES
from audionet_gui.core.live.spectrogram import LiveSpectrogram
from audionet_gui.ui.widgets.scrolling_spectrogram import FLOOR_DB, TOP_DB, ScrollingSpectrogram
from tests.core.live.fakes import small_spec_cfg


def axis_labels(view: ScrollingSpectrogram) -> list[str]:
    rows = view.ordered().shape[0]
    ticks = view.freq_axis.tickValues(0, rows, 300)
    return view.freq_axis.tickStrings(ticks[0][1], 1.0, 1.0)


@pytest.fixture
def view(qtbot):
    v = ScrollingSpectrogram(span_s=2.0)
    qtbot.addWidget(v)
    v.resize(600, 300)
    v.show()
    return v


def test_without_a_model_the_defaults_are_kept(view):
    view.configure(np.linspace(100, 8000, 16), 0.01)
    view.append_columns(np.full((16, 50), -20.0, np.float32), 0.005)
    view.redraw()
    assert view.levels == (FLOOR_DB, TOP_DB)
    assert np.array_equal(view.image.lut, colormap_lut("magma"))
    assert view.freq_axis.labelUnits == "Hz"


def test_a_chroma_model_shows_pitch_classes_not_hz(view):
    spec = replace(small_spec_cfg(), kind="chroma", colormap="gray", ref="absolute", db_range=60.0)
    view.configure(LiveSpectrogram(spec).freqs_hz, spec.hop_length / spec.sample_rate, spec, window_s=1.0)
    view.append_columns(np.full((12, 50), -20.0, np.float32), 0.005)
    view.redraw()
    labels = axis_labels(view)
    assert labels and set(labels) <= set(PITCH_CLASSES) and "C" in labels
    assert view.freq_axis.labelText == "Pitch class" and not view.freq_axis.labelUnits
    assert "k" not in "".join(labels) and not any(lab.isdigit() for lab in labels)
    assert np.array_equal(view.image.lut, colormap_lut("gray"))
    assert view.levels == (-60.0, 0.0)  # ref="absolute": db_range below full scale, as the CNN image
    assert tuple(view.image.levels) == (-60.0, 0.0)


def test_a_mel_model_is_labelled_in_hz_between_its_fmin_and_fmax(view):
    spec = replace(small_spec_cfg(), fmin=300.0, fmax=4000.0, colormap="viridis")
    view.configure(LiveSpectrogram(spec).freqs_hz, 0.01, spec)
    view.append_columns(np.full((spec.n_mels, 50), -20.0, np.float32), 0.005)
    view.redraw()
    hz = [float(lab[:-1]) * 1000 if lab.endswith("k") else float(lab) for lab in axis_labels(view)]
    assert hz and all(300.0 <= f <= 4000.0 for f in hz)
    assert view.freq_axis.labelUnits == "Hz"
    assert np.array_equal(view.image.lut, colormap_lut("viridis"))


def test_ref_max_levels_follow_the_loudest_cell_of_the_newest_window(view):
    spec = replace(small_spec_cfg(), ref="max", db_range=50.0)
    bins = spec.n_mels
    view.configure(LiveSpectrogram(spec).freqs_hz, 0.01, spec, window_s=0.5)
    loud = np.full((bins, 100), -60.0, np.float32)
    loud[3, 80] = -12.0  # 0.2 s before the newest column: inside the last 0.5 s
    view.append_columns(loud, 0.005)
    view.redraw()
    assert view.levels == pytest.approx((-62.0, -12.0))  # db_range below the window's loudest cell
    assert tuple(view.image.levels) == pytest.approx((-62.0, -12.0))
    view.append_columns(np.full((bins, 60), -70.0, np.float32), 1.005)  # the loud cell is now 0.8 s old
    view.redraw()
    assert view.levels == pytest.approx((-120.0, -70.0))  # the newest 0.5 s alone
