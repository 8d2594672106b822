from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data.convert import workers
from audionet_gui.core.data.convert.manifest import load_manifest
from audionet_gui.core.data.convert.run import convert_dataset
from audionet_gui.core.data.dataset import DatasetSpec

SMALL = SpectrogramConfig(image_width=64, image_height=48)


def test_parallel_conversion_equals_serial(data, tmp_path):
    spec = DatasetSpec.from_root(data)
    a = convert_dataset(spec, tmp_path / "a", SMALL, workers=1)
    b = convert_dataset(spec, tmp_path / "b", SMALL, workers=2)
    rows_a, rows_b = load_manifest(tmp_path / "a"), load_manifest(tmp_path / "b")
    assert [(r.image, r.split) for r in rows_a] == [(r.image, r.split) for r in rows_b]
    for r in rows_a[:4]:
        assert (tmp_path / "a" / r.image).read_bytes() == (tmp_path / "b" / r.image).read_bytes()
    assert a.windows == b.windows


def test_cancel_stops_and_keeps_a_consistent_workspace(data, tmp_path, monkeypatch):
    spec = DatasetSpec.from_root(data)
    token = CancelToken()
    real = workers._convert_or_error
    calls = []

    def convert_then_cancel(*args):
        calls.append(args[0])
        if len(calls) == 3:
            token.cancel()  # the user presses Cancel while the third file converts
        return real(*args)

    monkeypatch.setattr(workers, "_convert_or_error", convert_then_cancel)
    with pytest.raises(Cancelled):
        convert_dataset(spec, tmp_path / "ws", SMALL, cancel=token, workers=1)
    assert len(calls) == 3  # stopped promptly
    assert not (tmp_path / "ws" / "manifest.csv").exists()
    assert not list((tmp_path / "ws").rglob("*.partial"))
    monkeypatch.setattr(workers, "_convert_or_error", real)
    resumed = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1)
    assert resumed.cached == 3 and resumed.files == 12


def test_a_dead_worker_process_does_not_lose_the_job(data, tmp_path, monkeypatch):
    submitted = []

    class DyingPool:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, *args):
            submitted.append(fn)
            fut = Future()
            fut.set_exception(BrokenProcessPool("a worker was killed"))
            return fut

        def shutdown(self, *a, **k):
            pass

    monkeypatch.setattr(workers, "ProcessPoolExecutor", DyingPool)
    summary = convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, workers=2)
    assert submitted  # the pool (that died) was used: the files were then converted here, one at a time
    assert summary.files == 12 and summary.failed == [] and summary.windows == 24
