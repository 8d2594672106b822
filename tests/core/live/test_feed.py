"""LiveFeed: the engine's threads write, one display pulls a merged frame; bounded, thread-safe, and the engine
fills it without any callback."""

from __future__ import annotations

import threading

import numpy as np

from audionet_gui.core.live.engine import LevelReading, LiveConfig, LiveEngine, PushSource
from audionet_gui.core.live.feed import LiveFeed
from tests.core.live.fakes import LABELS, LOW_HZ, PitchClassifier, small_spec_cfg, tone


def test_a_frame_merges_levels_and_joins_columns_in_time_order():
    feed = LiveFeed(column_s=0.01)
    feed.put_level(LevelReading(1.00, -30.0, -20.0, False))
    feed.put_level(LevelReading(1.02, -12.0, -1.0, True))
    feed.put_level(LevelReading(1.04, -40.0, -35.0, False))
    feed.put_columns(np.zeros((4, 2), np.float32), 0.005)
    feed.put_columns(np.ones((4, 3), np.float32), 0.025)
    feed.put_event("warning", "fell back")
    frame = feed.take()
    assert frame.level == LevelReading(1.04, -12.0, -1.0, True)  # loudest, latest time, clip kept
    assert frame.columns.shape == (4, 5) and frame.t0 == 0.005 and frame.columns[0, -1] == 1.0
    assert frame.events == [("warning", "fell back")]
    assert not feed.take()  # everything was taken


def test_blocks_that_do_not_follow_on_are_not_joined():
    feed = LiveFeed(column_s=0.01, max_column_blocks=2)
    for i in range(5):  # the first three are dropped from the full buffer: a gap before the fourth
        feed.put_columns(np.full((2, 1), float(i), np.float32), 0.005 + i * 0.01 + (0.5 if i >= 3 else 0.0))
    frame = feed.take()
    assert frame.columns.tolist() == [[3.0, 4.0], [3.0, 4.0]] and abs(frame.t0 - 0.535) < 1e-9


def test_writers_on_many_threads_lose_nothing_below_the_bound():
    feed = LiveFeed(max_decisions=10_000)

    def write(k):
        for i in range(1000):
            feed.put_decision((k, i))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    taken = []
    while any(th.is_alive() for th in threads):
        taken += feed.take().decisions
    taken += feed.take().decisions
    assert sorted(taken) == sorted((k, i) for k in range(4) for i in range(1000))


def test_the_engine_fills_its_feed_without_callbacks():
    source = PushSource(16000, sample_rate=16000)
    engine = LiveEngine(source, PitchClassifier(), LABELS, small_spec_cfg(),
                        LiveConfig(window_s=0.5, hop_s=0.25, threshold=0.6, smoothing=1))
    source.push(tone(LOW_HZ, 1.0))
    engine.pump_once()
    engine.run_pending()
    frame = engine.feed.take()
    assert frame.level is not None and -20 < frame.level.rms_db < -5
    assert frame.columns.shape[0] == len(engine.freqs_hz) and frame.columns.shape[1] >= 90
    assert [d.label for d in frame.decisions] == ["low"]
