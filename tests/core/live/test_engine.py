"""The live engine without a sound card: ring buffer, resampling, spectrogram columns, gates, smoothing, timeline."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from audionet_gui.core.answers import NO_SPEECH, SILENCE, UNKNOWN
from audionet_gui.core.audio.spectrogram import compute_spectrogram
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.live.engine import (
    LiveConfig,
    LiveEngine,
    ProbabilitySmoother,
    PushSource,
    RingBuffer,
    StreamResampler,
    decide,
    live_config_from_bundle,
)
from audionet_gui.core.live.spectrogram import LiveSpectrogram
from tests.audio_factory import fan_hum, speech_like
from tests.core.live.fakes import HIGH_HZ, LABELS, LOW_HZ, PitchClassifier, small_spec_cfg, tone


# --- ring buffer ----------------------------------------------------------------------------------------------
def test_ring_buffer_wraps_and_reports_dropped_samples():
    ring = RingBuffer(10)
    ring.write(np.arange(7), stamp=1.0)
    out, cursor, dropped, stamp = ring.read_since(0)
    assert out.tolist() == list(range(7)) and cursor == 7 and dropped == 0 and stamp == 1.0
    ring.write(np.arange(7, 15), stamp=2.0)  # wraps around the end
    out, cursor, dropped, _ = ring.read_since(cursor)
    assert out.tolist() == list(range(7, 15)) and cursor == 15 and dropped == 0
    ring.write(np.arange(15, 40))  # more than the capacity at once: only the newest 10 are kept
    out, cursor, dropped, _ = ring.read_since(cursor)
    assert out.tolist() == list(range(30, 40)) and dropped == 15 and cursor == 40
    assert ring.latest(3).tolist() == [37, 38, 39]
    assert ring.latest(100).tolist() == list(range(30, 40))


def test_ring_buffer_reads_are_consistent_while_a_thread_writes():
    ring = RingBuffer(4096)
    total = 200_000
    cursor, reads, lost = 0, 0, 0

    def writer():
        for start in range(0, total, 256):
            ring.write(np.arange(start, min(start + 256, total), dtype=np.float32))
            if start % 2048 == 0:
                time.sleep(0.0002)

    th = threading.Thread(target=writer)
    th.start()
    while th.is_alive() or cursor < ring.total_written:
        before = cursor
        out, cursor, dropped, _ = ring.read_since(cursor)
        # whatever was read is exactly the newest consecutive samples: never torn, never out of order
        assert np.array_equal(out, np.arange(before + dropped, cursor, dtype=np.float32))
        lost += dropped
        reads += out.size > 0
    th.join()
    assert cursor == total and reads > 10
    assert lost <= total - 4096


# --- resampling -----------------------------------------------------------------------------------------------
def test_stream_resampler_matches_the_rate_and_keeps_the_pitch():
    x = tone(1000.0, 2.0, sr=44100)
    rs = StreamResampler(44100, 16000)
    rng = np.random.default_rng(0)
    pieces, pos = [], 0
    while pos < x.size:  # odd block sizes, as a device delivers them
        n = int(rng.integers(50, 2000))
        pieces.append(rs.process(x[pos:pos + n]))
        pos += n
    pieces.append(rs.process(np.zeros(0, np.float32), last=True))
    y = np.concatenate(pieces)
    assert abs(y.size - 32000) <= 2
    spectrum = np.abs(np.fft.rfft(y[2000:-2000]))
    peak_hz = np.argmax(spectrum) * 16000 / (y.size - 4000)
    assert abs(peak_hz - 1000.0) < 5
    assert abs(np.sqrt(np.mean(y[2000:-2000] ** 2)) - 0.3 / np.sqrt(2)) < 0.01  # level preserved


def test_push_source_resamples_native_rate_to_model_rate():
    src = PushSource(in_rate=48000, sample_rate=16000)
    for _ in range(50):
        src.push(tone(440.0, 0.02, sr=48000), stamp=123.0)
    chunk = src.read()
    assert chunk.arrival == 123.0
    assert 16000 - 480 < chunk.samples.size <= 16000  # the streaming filter holds back < 30 ms
    assert src.read().samples.size == 0  # nothing new


# --- live spectrogram -----------------------------------------------------------------------------------------
def test_live_spectrogram_columns_equal_the_offline_spectrogram():
    cfg = small_spec_cfg()
    rng = np.random.default_rng(1)
    x = (0.1 * rng.standard_normal(16000)).astype(np.float32) + tone(700, 1.0)
    live = LiveSpectrogram(cfg)
    cols, times, pos = [], [], 0
    while pos < x.size:
        n = int(rng.integers(1, 700))
        c, t0 = live.push(x[pos:pos + n])
        pos += n
        if c.shape[1]:
            cols.append(c)
            times.append(t0)
    live_cols = np.concatenate(cols, axis=1)
    offline = compute_spectrogram(x, cfg)
    first = round(times[0] * cfg.sample_rate / cfg.hop_length)
    assert first >= 1
    ref = offline.values_db[:, first:first + live_cols.shape[1]]
    # the last offline frames use reflect padding at the end of the signal; live ones never do
    assert live_cols.shape[1] >= ref.shape[1] - 3
    n = min(live_cols.shape[1], ref.shape[1] - 3)
    assert np.allclose(live_cols[:, :n], ref[:, :n], atol=1e-3)
    assert live_cols.shape[0] == cfg.n_mels


def test_live_spectrogram_produces_enough_columns_for_a_smooth_display():
    cfg = small_spec_cfg()
    live = LiveSpectrogram(cfg)
    produced = 0
    for _ in range(50):  # one second in 20 ms ticks
        c, _ = live.push(np.zeros(320, np.float32))
        produced += c.shape[1] > 0
    assert produced >= 45  # nearly every tick brings new columns: 50 ticks/s >= 25 frames/s


# --- decisions ------------------------------------------------------------------------------------------------
def test_smoother_averages_the_last_n_and_resets():
    sm = ProbabilitySmoother(3)
    sm.push([1.0, 0.0])
    sm.push([0.0, 1.0])
    assert np.allclose(sm.push([0.0, 1.0]), [1 / 3, 2 / 3])
    assert np.allclose(sm.push([0.0, 1.0]), [0.0, 1.0])  # the first one fell out
    sm.reset()
    assert np.allclose(sm.push([0.2, 0.8]), [0.2, 0.8])


def test_low_confidence_is_unknown_and_names_the_best_guess():
    d = decide(np.array([0.55, 0.45]), LABELS, threshold=0.7, t=2.0)
    assert d.label == UNKNOWN and d.best == "high" and d.gate == "low_confidence"
    assert d.p == pytest.approx(0.55)
    d = decide(np.array([0.2, 0.8]), LABELS, threshold=0.7, t=2.0, k=2)
    assert d.label == "low" and d.gate is None and d.top_k[0] == ("low", pytest.approx(0.8))
    js = d.to_json()
    assert {"t", "label", "p", "latency_ms", "top_k"} <= set(js)


# --- the engine, stepped by hand ------------------------------------------------------------------------------
def _engine(classifier, threshold=0.5, **kw):
    cfg = small_spec_cfg()
    src = PushSource(in_rate=16000, sample_rate=16000)
    engine = LiveEngine(src, classifier, LABELS, cfg,
                        LiveConfig(window_s=1.0, hop_s=0.5, silence_db=-50.0, threshold=threshold, smoothing=2), **kw)
    return src, engine


def _feed(src, engine, samples, block=800):
    decisions = []
    for pos in range(0, samples.size, block):
        src.push(samples[pos:pos + block])
        engine.pump_once()
        d = engine.run_pending()
        if d is not None:
            decisions.append(d)
    return decisions


def test_engine_identifies_tones_gates_silence_and_keeps_a_timeline():
    src, engine = _engine(PitchClassifier())
    audio = np.concatenate([np.zeros(16000, np.float32), tone(LOW_HZ, 2.0), tone(HIGH_HZ, 2.0),
                            np.zeros(16000, np.float32) + 1e-5])
    decisions = _feed(src, engine, audio)
    labels = [d.label for d in decisions]
    # one decision per hop once a full window has arrived
    assert len(decisions) == pytest.approx((audio.size / 16000 - 1.0) / 0.5 + 1, abs=1)
    assert labels[0] == SILENCE
    assert all(d.top_k == [] and d.best is None for d in decisions if d.label == SILENCE)
    low_part = [d.label for d in decisions if 2.0 <= d.t <= 3.0]
    high_part = [d.label for d in decisions if 4.5 <= d.t <= 5.0]
    assert set(low_part) == {"low"} and set(high_part) == {"high"}
    assert labels[-1] == SILENCE  # a near-silent tail is silence, never a class name
    assert [s.label for s in engine.timeline.segments()][:2] == [SILENCE, "low"]
    assert all(d.t == pytest.approx(round(d.t * 2) / 2) for d in decisions)  # on the hop grid


def test_engine_threshold_can_change_while_running():
    src, engine = _engine(PitchClassifier(confidence=0.6), threshold=0.5)
    first = _feed(src, engine, tone(LOW_HZ, 1.5))
    assert first[-1].label == "low"
    engine.set_threshold(0.8)
    later = _feed(src, engine, tone(LOW_HZ, 1.0))
    assert later and all(d.label == UNKNOWN and d.best == "low" for d in later)


def test_engine_smoothing_spans_decisions_and_resets_after_silence():
    probs = iter([[0.9, 0.1], [0.1, 0.9], [0.1, 0.9]])
    src, engine = _engine(lambda images: np.asarray([next(probs, [0.9, 0.1])]), threshold=0.6)
    ds = _feed(src, engine, tone(LOW_HZ, 2.0))
    assert [d.label for d in ds] == ["high", "unknown", "low"]  # the mean of two, [0.5, 0.5], is under 0.6
    assert ds[1].p == pytest.approx(0.5)
    _feed(src, engine, np.zeros(16000, np.float32))
    ds = _feed(src, engine, tone(LOW_HZ, 1.0))
    assert ds[0].label == "high" and ds[0].p == pytest.approx(0.9)  # no memory of the speech before the pause


def test_engine_reports_a_failing_classifier_once_and_keeps_going():
    events = []

    def broken(images):
        raise RuntimeError("model exploded")

    src, engine = _engine(broken, on_event=lambda k, m: events.append((k, m)))
    engine.start()
    try:
        for _ in range(30):
            src.push(tone(LOW_HZ, 0.1))
            time.sleep(0.01)
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        assert engine.running
    finally:
        engine.stop()
    assert len(events) == 1 and events[0][0] == "error" and "model exploded" in events[0][1]


def test_engine_runs_inference_off_the_callers_thread_and_measures_latency():
    clf = PitchClassifier()
    decisions, levels, columns = [], [], []
    src, engine = _engine(clf, on_decision=decisions.append, on_level=levels.append,
                          on_columns=lambda c, t0: columns.append(c.shape[1]))
    with engine:
        for _ in range(40):  # 2 s of audio in 20 ms blocks, a little faster than real time
            src.push(tone(LOW_HZ, 0.05))
            time.sleep(0.02)
        deadline = time.monotonic() + 5
        while len(decisions) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert decisions and all(d.label == "low" for d in decisions)
    assert clf.threads and all(name == "live-inference" for name in clf.threads)
    assert all(0 <= d.latency_ms < 2000 for d in decisions)
    assert levels and levels[-1].rms_db == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.5)
    assert sum(columns) > 100  # ~2 s of 10 ms columns


def test_engine_refuses_a_source_at_the_wrong_rate():
    with pytest.raises(ValueError, match="Hz"):
        LiveEngine(PushSource(48000, sample_rate=48000), PitchClassifier(), LABELS, small_spec_cfg())


def test_starting_again_after_stop_is_a_fresh_session():
    decisions = []
    src, engine = _engine(PitchClassifier(), on_decision=decisions.append)
    for _ in range(2):
        decisions.clear()
        engine.start()
        try:
            for _ in range(30):
                src.push(tone(LOW_HZ, 0.05))
                time.sleep(0.01)
            deadline = time.monotonic() + 5
            while not decisions and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            engine.stop()
        assert decisions[0].t == pytest.approx(1.0, abs=0.2)  # stream time starts from zero each session
        assert engine.timeline.segments()[0].start_s == pytest.approx(decisions[0].t - 0.5)
        assert not engine.running


def test_speech_gate_answers_no_speech_for_a_fan_and_a_name_for_speech():
    classifier = PitchClassifier()
    src = PushSource(in_rate=16000, sample_rate=16000)
    engine = LiveEngine(src, classifier, LABELS, small_spec_cfg(),
                        LiveConfig(window_s=2.0, hop_s=0.5, silence_db=-50.0, threshold=0.5, smoothing=2,
                                   speech_gate=True))
    fan = _feed(src, engine, fan_hum(4.0, seed=1, amp=0.1))
    assert fan and {d.label for d in fan} == {NO_SPEECH} and classifier.calls == 0  # never classified
    assert all(d.gate == NO_SPEECH and d.best is None and d.top_k == [] for d in fan)
    speech = _feed(src, engine, speech_like(4.0, seed=3, f0=120.0))
    named = [d.label for d in speech if d.t >= 6.0]  # windows wholly inside the speech
    assert named and set(named) <= set(LABELS) and classifier.calls > 0
    assert [s.label for s in engine.timeline.segments()][0] == NO_SPEECH
    assert speech[-1].to_json()["label"] in LABELS

    # without the gate (an energy-gated model) the same fan is classified and named
    plain = PitchClassifier()
    src, engine = _engine(plain)
    assert {d.label for d in _feed(src, engine, fan_hum(3.0, seed=1, amp=0.1))} <= set(LABELS)


def test_live_config_follows_the_models_gate():
    def bundle(gate):
        return SimpleNamespace(window_config=WindowConfig(gate=gate, speech_threshold=0.6), unknown_threshold=0.4)

    assert live_config_from_bundle(bundle("speech")).speech_gate
    assert live_config_from_bundle(bundle("speech")).speech_threshold == 0.6
    assert not live_config_from_bundle(bundle("energy")).speech_gate
    assert not live_config_from_bundle(bundle("auto")).speech_gate  # an old bundle: today's energy gate
