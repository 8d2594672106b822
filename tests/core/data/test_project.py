"""The project model: class edits, drops, and a save/load round trip that keeps paths portable."""

import json
import os
from pathlib import Path

import pytest

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data import project as project_module
from audionet_gui.core.data.convert import AugmentPlan, config_key
from audionet_gui.core.data.dataset import dataset_sources
from audionet_gui.core.data.project import (
    BACKGROUND_CLASS,
    PROJECT_FORMAT,
    Project,
    ProjectError,
    add_background_class,
    copy_model_folder,
    move_model_on_save,
    train_project,
    writable_copy,
)
from audionet_gui.core.settings import ImageSettings, TrainingPlan
from audionet_gui.resources import demo_project_path
from tests.audio_factory import tone, write


def _folders(tmp_path: Path, *names: str) -> list[Path]:
    out = []
    for n in names:
        d = tmp_path / "data" / n
        d.mkdir(parents=True)
        (d / "a.wav").write_bytes(b"")
        out.append(d)
    return out


def test_dropped_folders_become_classes_named_after_them(tmp_path):
    alice, bob = _folders(tmp_path, "alice", "bob")
    p = Project()
    assert p.add_paths([alice, bob]) == ["alice", "bob"]
    assert p.class_names == ["alice", "bob"]
    assert p.get_class("alice").folders == [str(alice)]
    # the same folder dropped again is not added twice
    assert p.add_paths([alice]) == []
    assert len(p.classes) == 2


def test_loose_files_join_the_class_of_their_parent_folder_or_the_target(tmp_path):
    alice, bob = _folders(tmp_path, "alice", "bob")
    p = Project()
    p.add_paths([alice])
    p.add_paths([bob / "a.wav"])
    assert p.class_names == ["alice", "bob"]
    assert p.get_class("bob").files == [str(bob / "a.wav")]
    extra = tmp_path / "x.wav"
    extra.write_bytes(b"")
    p.add_paths([extra], into="alice")
    assert p.get_class("alice").files == [str(extra)]


def test_same_folder_name_twice_gets_a_unique_class_name(tmp_path):
    (tmp_path / "one" / "voice").mkdir(parents=True)
    (tmp_path / "two" / "voice").mkdir(parents=True)
    p = Project()
    p.add_paths([tmp_path / "one" / "voice", tmp_path / "two" / "voice"])
    assert p.class_names == ["voice", "voice (2)"]


def test_rename_remove_merge(tmp_path):
    a, b, c = _folders(tmp_path, "a", "b", "c")
    p = Project()
    p.add_paths([a, b, c])
    p.rename_class("a", "anna")
    with pytest.raises(ProjectError, match="already"):
        p.rename_class("b", "anna")
    with pytest.raises(ProjectError):
        p.rename_class("b", "  ")
    merged = p.merge_classes(["anna", "b"], into="people")
    assert merged.name == "people" and merged.folders == [str(a), str(b)]
    assert p.class_names == ["people", "c"]
    with pytest.raises(ProjectError):
        p.merge_classes(["c"], into="c")
    p.remove_class("c")
    assert p.class_names == ["people"]


def test_round_trip_keeps_everything_and_stores_inner_paths_relative(tmp_path):
    a, b = _folders(tmp_path, "a", "b")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.wav"
    p = Project(name="Voices")
    p.add_paths([a, b])
    p.get_class("b").files.append(str(outside))
    p.test_folder = str(tmp_path / "data")
    p.settings = ImageSettings().with_values({"kind": "mel", "n_mels": 64, "window_s": 1.0, "hop_s": 0.5})
    p.training.update(backbone="small_cnn", epochs=3, weights=str(tmp_path / "w.h5"))
    p.model_path = str(tmp_path / "model")
    saved = p.save(tmp_path / "voices.audionet.json")
    raw = json.loads(saved.read_text())
    assert raw["format"] == PROJECT_FORMAT
    assert raw["classes"][0]["folders"] == ["data/a"]  # relative inside the project folder
    assert raw["classes"][1]["files"] == [str(outside)]  # absolute outside it
    assert raw["training"]["weights"] == "w.h5"
    assert raw["settings"] == p.settings.to_dict()  # stored once: no separate spectrogram/window entries
    assert not {"spectrogram", "window"} & set(raw)

    q = Project.load(saved)
    assert q.to_dict(base=tmp_path) == p.to_dict(base=tmp_path)
    assert q.settings == p.settings
    assert Path(q.get_class("a").folders[0]).resolve() == a.resolve()
    assert Path(q.training["weights"]).resolve() == (tmp_path / "w.h5").resolve()
    assert q.path == saved

    # moved as a whole folder, the project still finds its data
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    tmp_path.rename(moved)
    r = Project.load(moved / "voices.audionet.json")
    assert Path(r.get_class("a").folders[0]).resolve() == (moved / "data" / "a").resolve()


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    p = Project(name="x")
    target = tmp_path / "x.audionet.json"
    p.save(target)
    p.name = "y"
    p.save()
    assert [f.name for f in tmp_path.iterdir()] == ["x.audionet.json"]
    assert Project.load(target).name == "y"


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "broken JSON"),
        ('{"kind": "something-else"}', "not an AudioNet Studio project"),
        ('{"kind": "audionet-project", "format": 99}', "newer"),
        ('{"kind": "audionet-project", "format": 1, "classes": [{"folders": []}]}', "damaged"),
    ],
)
def test_bad_project_files_are_refused_with_a_reason(tmp_path, content, words):
    f = tmp_path / "bad.audionet.json"
    f.write_text(content)
    with pytest.raises(ProjectError, match=words):
        Project.load(f)


def test_missing_file_and_unsaved_project(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        Project.load(tmp_path / "nope.json")
    with pytest.raises(ProjectError, match="choose where"):
        Project().save()


def test_background_class_gets_a_writable_folder_beside_the_classes(tmp_path):
    a, b = _folders(tmp_path, "a", "b")
    p = Project()
    p.add_paths([a, b])
    cls = add_background_class(p, tmp_path / "out")
    assert cls.name == BACKGROUND_CLASS and p.class_names[-1] == BACKGROUND_CLASS
    assert Path(cls.folders[0]) == tmp_path / "data" / BACKGROUND_CLASS and Path(cls.folders[0]).is_dir()
    assert add_background_class(p, tmp_path / "out") is cls  # asked twice: the same class
    assert len(p.classes) == 3


def test_background_class_falls_back_to_the_output_folder_when_data_is_read_only(tmp_path):
    (a,) = _folders(tmp_path, "a")
    os.chmod(a.parent, 0o555)
    try:
        p = Project(name="ro")
        p.add_paths([a])
        cls = add_background_class(p, tmp_path / "out")
        if os.geteuid() != 0:  # root may write anywhere
            assert Path(cls.folders[0]) == p.folder(tmp_path / "out") / BACKGROUND_CLASS  # the project's own
        assert Path(cls.folders[0]).is_dir()
    finally:
        os.chmod(a.parent, 0o755)


def test_copy_model_folder_copies_whole_and_cancel_leaves_nothing(tmp_path):
    src = tmp_path / "model"
    (src / "sub").mkdir(parents=True)
    for i in range(5):
        (src / f"f{i}.json").write_text(str(i))
    (src / "sub" / "x.bin").write_bytes(b"\0" * 100)
    out = copy_model_folder(src, tmp_path / "copy" / "model")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        ["f0.json", "f1.json", "f2.json", "f3.json", "f4.json", "sub/x.bin"]
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        copy_model_folder(src, tmp_path / "other" / "model", cancel=token)
    assert not (tmp_path / "other" / "model").exists()
    assert [p.name for p in (tmp_path / "other").iterdir()] == []  # no half-copied folder left
    with pytest.raises(ProjectError, match="does not exist"):
        copy_model_folder(tmp_path / "nope", tmp_path / "x")


def test_writable_copy_of_a_read_only_project_is_made_once(tmp_path):
    src = tmp_path / "bundled"
    (src / "train" / "a").mkdir(parents=True)
    (src / "train" / "a" / "x.wav").write_bytes(b"RIFF")
    (src / "demo.audionet.json").write_text("{}")
    copied = writable_copy(src / "demo.audionet.json", tmp_path / "user" / "demo")
    assert copied == tmp_path / "user" / "demo" / "demo.audionet.json" and copied.is_file()
    assert (copied.parent / "train" / "a" / "x.wav").read_bytes() == b"RIFF"
    (copied.parent / "train" / "a" / "recorded.wav").write_bytes(b"new")  # the user's own change stays
    assert writable_copy(src / "demo.audionet.json", tmp_path / "user" / "demo") == copied
    assert (copied.parent / "train" / "a" / "recorded.wav").exists()
    assert not (src / "train" / "a" / "recorded.wav").exists()


def _format_1_project(tmp_path: Path, **training) -> Path:
    """A project file as format 1 wrote it: the settings in "spectrogram" and "window" (the spectrogram with an
    image size that was always replaced by the backbone's), an image size in the training settings."""
    path = tmp_path / "old.audionet.json"
    path.write_text(json.dumps({
        "format": 1, "kind": "audionet-project", "name": "old", "classes": [],
        "spectrogram": {"kind": "mel", "n_mels": 40, "fmax": 6000.0, "image_width": 299, "image_height": 299},
        "window": {"window_s": 1.0, "hop_s": 0.5, "short_clip": "pad", "skip_silent": False, "silence_db": -40.0},
        "training": {"backbone": "small_cnn", "weights": "none", **training}}))
    return path


def test_a_format_1_project_still_loads_its_settings(tmp_path):
    project = Project.load(_format_1_project(tmp_path))
    s = project.settings
    assert (s.spectrogram.n_mels, s.spectrogram.fmax) == (40, 6000.0)
    assert (s.window.window_s, s.window.short_clip) == (1.0, "pad")
    assert s.window.skip_silent is False and s.window.silence_db == -40.0
    assert s.image_size is None  # the old spectrogram's 299x299 was never the model's: the backbone decides
    assert project.image_settings().image_size == (128, 128)
    sized = Project.load(_format_1_project(tmp_path, image_size=[96, 64]))
    assert sized.settings.image_size == (96, 64) and "image_size" not in sized.training
    assert sized.image_settings().spectrogram.image_size == (96, 64)
    saved = json.loads(sized.save(tmp_path / "new.audionet.json").read_text())
    assert saved["format"] == PROJECT_FORMAT and saved["settings"]["image_size"] == [96, 64]
    assert Project.load(tmp_path / "new.audionet.json").settings == sized.settings


def test_the_image_cache_key_is_the_same_for_an_old_and_a_new_project_file(tmp_path):
    old = Project.load(_format_1_project(tmp_path))
    new = Project.load(old.save(tmp_path / "new.audionet.json"))
    keys = {config_key(p.image_settings().spectrogram, p.image_settings().window) for p in (old, new)}
    assert len(keys) == 1  # the converted images of the old project are found again
    assert old.image_settings().fingerprint() == new.image_settings().fingerprint()


def test_the_demo_project_loads_its_settings():
    demo = Project.load(demo_project_path())
    assert demo.settings.window.window_s == 1.0 and demo.settings.window.hop_s == 0.5


def test_bad_settings_in_a_project_file_are_refused_with_the_file_named(tmp_path):
    path = tmp_path / "bad.audionet.json"
    path.write_text(json.dumps({"format": 2, "kind": "audionet-project", "settings": {"window": {"hop_s": -1}}}))
    with pytest.raises(ProjectError, match=r"bad\.audionet\.json: bad audio settings.*hop"):
        Project.load(path)


def test_every_project_has_its_own_folder_for_its_model(tmp_path):
    out = tmp_path / "out"
    first, second = Project(), Project()
    assert not (out / "unsaved").exists()  # made on first use, not when a project is merely created
    one, two = first.model_dir(out), second.model_dir(out)
    assert one != two and one.parent.is_dir() and two.parent.is_dir()
    assert one.parent.parent == two.parent.parent == out / "unsaved"
    assert first.model_dir(out) == one  # asked again: the same folder
    # a saved project's folder sits beside its file, and two files in one folder do not share one
    a = Project(name="a")
    a.save(tmp_path / "docs" / "a.audionet.json")
    b = Project(name="b")
    b.save(tmp_path / "docs" / "b.audionet.json")
    assert a.model_dir(out) == tmp_path / "docs" / "a_project" / "model"
    assert b.model_dir(out) != a.model_dir(out)


def _fake_model(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "labels.json").write_text(text)
    return folder


def test_save_as_copies_the_own_model_into_the_new_folder_and_keeps_the_old(tmp_path):
    out = tmp_path / "out"
    p = Project()
    p.model_path = str(_fake_model(p.model_dir(out), "mine"))
    old = Path(p.model_path)
    target = tmp_path / "docs" / "voices.audionet.json"
    moved = move_model_on_save(p, target, out)
    assert moved == tmp_path / "docs" / "voices_project" / "model"
    assert (moved / "labels.json").read_text() == "mine"
    assert (old / "labels.json").read_text() == "mine"  # copy then switch: nothing is lost on the way
    p.model_path = str(moved)
    saved = p.save(target)
    assert Path(Project.load(saved).model_path) == moved  # the saved file points to its own copy
    # Save As again: a saved project's model is copied too, and the first file still has its own
    again = move_model_on_save(p, tmp_path / "docs" / "other.audionet.json", out)
    assert again == tmp_path / "docs" / "other_project" / "model" and (again / "labels.json").is_file()
    assert Path(Project.load(saved).model_path) == moved and moved.is_dir()


def test_save_as_never_replaces_a_folder_that_is_not_a_model(tmp_path):
    out = tmp_path / "out"
    p = Project()
    p.model_path = str(_fake_model(p.model_dir(out), "mine"))
    theirs = tmp_path / "docs" / "voices_project" / "model"
    theirs.mkdir(parents=True)
    (theirs / "notes.txt").write_text("keep me")
    with pytest.raises(ProjectError, match="not a model folder"):
        move_model_on_save(p, tmp_path / "docs" / "voices.audionet.json", out)
    assert (theirs / "notes.txt").read_text() == "keep me"
    assert (Path(p.model_path) / "labels.json").is_file()


def test_save_as_leaves_a_model_the_project_only_refers_to(tmp_path):
    out = tmp_path / "out"
    elsewhere = _fake_model(tmp_path / "shared" / "model", "theirs")
    p = Project(model_path=str(elsewhere))
    assert move_model_on_save(p, tmp_path / "x.audionet.json", out) is None
    assert p.scratch is None  # asking made no folder
    assert Project().model_path is None and move_model_on_save(Project(), tmp_path / "y.audionet.json", out) is None


def test_excluding_and_moving_a_file_change_the_project_not_the_file(tmp_path):
    a = [write(tmp_path / "a" / f"a{i}.wav", tone(300 + i, 0.5)) for i in range(3)]
    write(tmp_path / "b" / "b0.wav", tone(900, 0.5))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.wav")}
    project = Project()
    project.add_paths([tmp_path / "a", tmp_path / "b"])
    project.exclude_file("a", a[0])
    project.move_file(a[1], "a", "b")
    labels = {s.path.name: s.label for s in dataset_sources(project.dataset_spec())}
    assert labels == {"a2.wav": "a", "a1.wav": "b", "b0.wav": "b"}
    saved = Project.load(project.save(tmp_path / "p.audionet.json"))  # kept in the project file
    assert {s.path.name: s.label for s in dataset_sources(saved.dataset_spec())} == labels
    saved.include_file("a", a[0])
    saved.move_file(a[1], "b", "a")  # and back: a loose file leaves the class it was moved to
    assert sorted(s.path.name for s in dataset_sources(saved.dataset_spec()) if s.label == "a") == \
        ["a0.wav", "a1.wav", "a2.wav"]
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.wav")} == before


def test_the_demo_project_trains_with_a_small_plan():
    plan = Project.load(demo_project_path()).training_plan()
    assert plan.augmented_copies < TrainingPlan().augmented_copies  # the demo trains in minutes


def test_a_project_trains_with_its_training_plan(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(project_module, "train_from_folders",
                        lambda *args, **kwargs: seen.update(kwargs, train_cfg=kwargs["train_cfg"]))
    project = Project(name="p", training={"backbone": "small_cnn", "weights": "none", "epochs": 5, "seed": 7,
                                          "augmented_copies": 1, "patience": 3})
    train_project(project, tmp_path / "model")
    assert seen["augment"] == AugmentPlan(copies=1, seed=7)
    assert seen["train_cfg"].patience == 3 and seen["train_cfg"].epochs == 5
    project.training["augmented_copies"] = 0
    train_project(project, tmp_path / "model")
    assert seen["augment"] is None


def test_a_bad_training_plan_in_a_project_file_is_refused_with_the_file_named(tmp_path):
    path = tmp_path / "bad.audionet.json"
    path.write_text(json.dumps({"format": 2, "kind": "audionet-project", "training": {"augmented_copies": "two"}}))
    with pytest.raises(ProjectError, match=r"bad\.audionet\.json: bad training settings.*augmented_copies"):
        Project.load(path)
