import pytest

from audionet_gui.core.base.errors import DatasetError
from audionet_gui.core.data.convert.manifest import ManifestRow, load_manifest, load_workspace_info, write_manifest


def test_manifest_round_trips_and_reads_manifests_from_before_the_newer_columns(tmp_path):
    rows = [ManifestRow("cache/k/ab/abc/w00000.png", "ann", "train", "/d/ann/1.wav", 0.0, 2.0),
            ManifestRow("cache/k/ab/abc.aug-1/w00000_a1.png", "ann", "train", "/d/ann/1.wav", 0.0, 2.0,
                        augmented=1, speech=False)]
    write_manifest(tmp_path, rows)
    assert load_manifest(tmp_path) == rows
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.csv").write_text("image,label,split,source,start_s,end_s\nx.png,ann,val,/d/a.wav,1.0,3.0\n")
    assert load_manifest(old) == [ManifestRow("x.png", "ann", "val", "/d/a.wav", 1.0, 3.0, 0, True)]


def test_missing_or_damaged_workspace_files_are_named(tmp_path):
    with pytest.raises(DatasetError, match=r"manifest\.csv: no manifest"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.csv").write_text("image,label\nx.png,ann\n")
    with pytest.raises(DatasetError, match=r"manifest\.csv: damaged manifest"):
        load_manifest(tmp_path)
    with pytest.raises(DatasetError, match=r"workspace\.json: not a workspace"):
        load_workspace_info(tmp_path)
    (tmp_path / "workspace.json").write_text("{")
    with pytest.raises(DatasetError, match=r"workspace\.json: damaged workspace file"):
        load_workspace_info(tmp_path)
