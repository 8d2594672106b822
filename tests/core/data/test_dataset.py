
import numpy as np
import pytest

from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import DatasetError
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data.dataset import (
    ClassSpec,
    DatasetSpec,
    SplitConfig,
    assign_split,
    class_sources,
    dataset_sources,
    find_duplicates,
    plan_splits,
    scan_dataset,
    time_split,
)
from audionet_gui.core.data.project import Project, scan_project
from audionet_gui.resources import demo_project_path
from tests.audio_factory import make_class_tree, noise, tone, write


def test_root_subfolders_are_classes(tmp_path):
    make_class_tree(tmp_path, {"bob": [tone(200, 1.0)], "alice": [tone(300, 1.0)]})
    (tmp_path / "empty_folder").mkdir()
    (tmp_path / ".hidden").mkdir()
    write(tmp_path / ".hidden" / "x.wav", tone(100, 1))
    spec = DatasetSpec.from_root(tmp_path)
    assert spec.labels == ["alice", "bob"]


def test_root_without_classes_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="no class folders"):
        DatasetSpec.from_root(tmp_path)


def test_class_of_several_folders_and_loose_files(tmp_path):
    a = write(tmp_path / "a" / "x.wav", tone(200, 1))
    b = write(tmp_path / "b" / "sub" / "y.wav", tone(200, 1))
    loose = write(tmp_path / "z.wav", tone(200, 1))
    (tmp_path / "b" / "readme.txt").write_text("not audio")
    spec = ClassSpec("bob", [tmp_path / "a", tmp_path / "b", tmp_path / "a"], [loose, a])
    sources = class_sources(spec)
    assert [s.path for s in sources] == [a, b, loose]  # each file once
    assert [s.relpath for s in sources] == ["x.wav", "sub/y.wav", "z.wav"]


def test_split_is_stable_and_about_the_asked_fractions():
    names = [f"take_{i}.wav" for i in range(3000)]
    splits = [assign_split(n) for n in names]
    assert splits == [assign_split(n) for n in names]  # deterministic
    frac = {s: splits.count(s) / len(splits) for s in ("train", "val", "test")}
    assert abs(frac["test"] - 0.15) < 0.03 and abs(frac["val"] - 0.15) < 0.03
    # a known value pins the hash across machines and versions
    assert assign_split("take_0.wav") == assign_split("take_0.wav", SplitConfig())


def test_adding_files_never_moves_existing_ones(tmp_path):
    # enough files that no split is empty by chance (tiny classes get an empty split filled, see plan_splits)
    make_class_tree(tmp_path, {"a": [noise(0.2, seed=i) for i in range(40)],
                               "b": [noise(0.2, seed=i) for i in range(40)]})
    spec = DatasetSpec.from_root(tmp_path)
    before = plan_splits(dataset_sources(spec), {s.path: 0.5 for s in dataset_sources(spec)}, 2.0)
    for i in range(40, 80):
        write(tmp_path / "a" / f"new_{i}.wav", noise(0.2, seed=i))
    after_sources = dataset_sources(spec)
    after = plan_splits(after_sources, {s.path: 0.5 for s in after_sources}, 2.0)
    assert all(after[p] == s for p, s in before.items())


def test_every_split_gets_a_file_in_small_classes(tmp_path):
    make_class_tree(tmp_path, {"a": [noise(0.5, seed=i) for i in range(6)]})
    sources = dataset_sources(DatasetSpec.from_root(tmp_path))
    plan = plan_splits(sources, {s.path: 0.5 for s in sources}, 2.0)
    assert set(plan.values()) == {"train", "val", "test"}


def test_one_long_recording_is_split_by_time_without_overlap(tmp_path):
    make_class_tree(tmp_path, {"solo": [noise(30.0)], "many": [noise(0.5, seed=i) for i in range(10)]})
    sources = dataset_sources(DatasetSpec.from_root(tmp_path))
    durations = {s.path: (30.0 if s.label == "solo" else 0.5) for s in sources}
    plan = plan_splits(sources, durations, 2.0)
    solo = [s for s in sources if s.label == "solo"][0]
    assert plan[solo.path] == "time"
    parts = {}
    for start in np.arange(0, 29, 1.0):
        split = time_split(start, start + 2, 30.0)
        if split:
            parts.setdefault(split, []).append((start, start + 2))
    assert set(parts) == {"train", "val", "test"}
    # no second of audio belongs to two splits
    for a in parts:
        for b in parts:
            if a < b:
                for s1, e1 in parts[a]:
                    for s2, e2 in parts[b]:
                        assert e1 <= s2 or e2 <= s1


def test_explicit_test_folder_overrides_the_hash(tmp_path):
    make_class_tree(tmp_path / "train", {"a": [noise(0.5, seed=i) for i in range(8)],
                                         "b": [noise(0.5, seed=i + 50) for i in range(8)]})
    make_class_tree(tmp_path / "test", {"a": [noise(0.5, seed=99)]})
    spec = DatasetSpec.from_root(tmp_path / "train", tmp_path / "test")
    sources = dataset_sources(spec)
    plan = plan_splits(sources, {s.path: 0.5 for s in sources}, 2.0, has_test_dir=True)
    tests = [p for p, s in plan.items() if s == "test"]
    assert tests == [tmp_path / "test" / "a" / "a_00.wav"]


def test_test_folder_with_an_unknown_class_is_refused(tmp_path):
    make_class_tree(tmp_path / "train", {"a": [noise(0.5)]})
    make_class_tree(tmp_path / "test", {"zed": [noise(0.5)]})
    with pytest.raises(DatasetError, match="zed"):
        dataset_sources(DatasetSpec.from_root(tmp_path / "train", tmp_path / "test"))


def test_report_counts_durations_unreadables_and_warnings(tmp_path):
    make_class_tree(tmp_path, {"big": [tone(200, 10.0), tone(210, 15.0)],
                               "small": [tone(300, 2.0)]})
    (tmp_path / "small" / "broken.wav").write_text("not audio")
    write(tmp_path / "big" / "copy.wav", tone(300, 2.0))  # identical to small/small_00.wav
    report = scan_dataset(DatasetSpec.from_root(tmp_path))
    big, small = report.classes
    assert (big.name, big.files) == ("big", 3) and big.duration_s == pytest.approx(27.0, abs=0.01)
    assert small.files == 1 and [p for p, _ in small.unreadable] == [str(tmp_path / "small" / "broken.wav")]
    assert any("too little audio" in w for w in small.warnings)
    assert any("imbalanced" in w for w in small.warnings)
    assert any("same file" in w for w in big.warnings) and any("same file" in w for w in small.warnings)
    assert report.to_dict()["files"] == 4


def test_duplicates_need_identical_content_not_just_size(tmp_path):
    a = write(tmp_path / "a" / "1.wav", noise(1.0, seed=1))
    b = write(tmp_path / "b" / "1.wav", noise(1.0, seed=2))  # same size, other content
    spec = DatasetSpec([ClassSpec("a", [a.parent]), ClassSpec("b", [b.parent])])
    assert find_duplicates(dataset_sources(spec)) == []


def test_scan_reports_progress_and_cancels(tmp_path):
    make_class_tree(tmp_path, {"a": [tone(200, 0.5)] * 5, "b": [tone(300, 0.5)] * 5})
    seen = []
    scan_dataset(DatasetSpec.from_root(tmp_path), progress=seen.append)
    assert seen[-1].done == seen[-1].total == 10
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan_dataset(DatasetSpec.from_root(tmp_path), cancel=token)


def test_spec_round_trips(tmp_path):
    spec = DatasetSpec([ClassSpec("a", [tmp_path / "x"], [tmp_path / "y.wav"])], tmp_path / "t")
    assert DatasetSpec.from_dict(spec.to_dict()) == spec


def test_short_clips_under_the_stream_rule_are_judged_by_their_number(tmp_path):
    """Word-length clips (the bundled demo's kind): 12 clips of 0.5 s are 6 s of audio, far under the seconds
    rule, but enough utterances; 3 such clips are not. Without the window the old seconds rule applies."""
    make_class_tree(tmp_path, {"many": [tone(200 + 10 * i, 0.5) for i in range(12)],
                               "few": [tone(400 + 10 * i, 0.5) for i in range(3)]})
    spec = DatasetSpec.from_root(tmp_path)
    stream = WindowConfig(window_s=1.0, hop_s=0.5, short_clip="stream")
    few, many = scan_dataset(spec, window=stream).classes
    assert many.short_clips == 12 and many.warnings == []
    assert any("3 short clips" in w for w in few.warnings)
    assert any("imbalanced: 4.0x fewer clips" in w for w in few.warnings)
    # another short-clip rule (one padded image per clip) keeps the seconds rule
    few, many = scan_dataset(spec, window=WindowConfig(window_s=1.0, hop_s=0.5, short_clip="pad")).classes
    assert any("too little audio (6.0 s" in w for w in many.warnings)
    assert any("too little audio (6.0 s" in w for w in scan_dataset(spec).classes[1].warnings)


def test_the_bundled_demo_shows_no_warning(tmp_path):
    scan = scan_project(Project.load(demo_project_path()))
    assert scan.report.warnings == [] and all(c.warnings == [] for c in scan.report.classes)
