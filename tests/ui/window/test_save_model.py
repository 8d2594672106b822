"""Save Model As: a folder of the user's by the model's name is replaced only after the user says so; an earlier
save (a model folder of ours) is replaced without a question."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tests.tiny_models import write_bundle


@pytest.fixture
def with_model(window, tmp_path):
    model = write_bundle(tmp_path / "own" / "model", labels=("a", "b"))
    window.project.model_path = str(model)
    return model


def _save(qtbot, window, monkeypatch, folder, answer=None):
    asked = []

    def question(*args, **kwargs):
        asked.append(args[2])
        return answer

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    monkeypatch.setattr(QMessageBox, "question", question)
    window.models.ask_save_model()
    if window.job is not None:
        qtbot.waitUntil(lambda: window.job.outcome is not None, timeout=30000)
    return asked


def test_a_users_folder_is_kept_unless_the_user_says_replace(qtbot, window, with_model, tmp_path, monkeypatch):
    chosen = tmp_path / "chosen"
    user = chosen / "model"
    (user / "recordings").mkdir(parents=True)
    (user / "thesis.txt").write_text("years of work")

    asked = _save(qtbot, window, monkeypatch, chosen, answer=QMessageBox.StandardButton.Cancel)
    assert len(asked) == 1 and "not a model folder" in asked[0]
    assert (user / "thesis.txt").read_text() == "years of work" and (user / "recordings").is_dir()

    asked = _save(qtbot, window, monkeypatch, chosen, answer=QMessageBox.StandardButton.Yes)
    assert len(asked) == 1 and window.job.outcome == "finished"
    assert (user / "format_version").is_file() and not (user / "thesis.txt").exists()

    asked = _save(qtbot, window, monkeypatch, chosen)  # now ours: replaced without asking
    assert asked == [] and window.job.outcome == "finished"


def test_links_in_the_model_folder_are_not_copied(qtbot, window, with_model, tmp_path, monkeypatch):
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret")
    (with_model / "notes.txt").symlink_to(secret)
    _save(qtbot, window, monkeypatch, tmp_path / "out")
    saved = tmp_path / "out" / "model"
    assert (saved / "format_version").is_file() and not (saved / "notes.txt").exists()
