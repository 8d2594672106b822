"""The app as a whole: project save/open round trip through the window, recent projects, geometry kept in
QSettings, the demo on first run, the About box, menus and shortcuts."""

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from audionet_gui.__main__ import build_parser, open_initial_project
from audionet_gui.core.data.project import Project
from audionet_gui.resources import demo_project_path, resources_dir
from audionet_gui.ui import theme
from audionet_gui.ui.dialogs.about import AboutDialog
from audionet_gui.ui.pages.inspector import InspectorPanel
from audionet_gui.ui.window.main_window import MainWindow


def test_project_round_trip_through_the_window(qtbot, window, tone_data, tmp_path, isolated):
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    window.data_panel.rename_requested.emit("mid", "middle")
    window.set_test_folder(str(tone_data / "high"))
    audio = window.train_panel.audio_settings
    audio.editors["window_s"].number.setValue(1.5)
    audio.editors["n_mels"].number.setValue(64)
    model = window.train_panel.model_settings
    model.backbone.setCurrentIndex(model.backbone.findData("small_cnn"))
    model.epochs.setValue(7)
    assert window.isWindowModified()
    target = tmp_path / "voices.audionet.json"
    assert window._save_to(target)
    assert not window.isWindowModified()
    assert window.recent_projects()[0] == str(target)

    other = MainWindow(QSettings(str(tmp_path / "s2.ini"), QSettings.IniFormat), output_root=tmp_path / "p2")
    try:
        assert other.open_project(str(target))
        assert other.project.class_names == ["low", "middle"]
        assert other.project.test_folder and Path(other.project.test_folder).resolve() == (tone_data / "high").resolve()
        assert other.train_panel.audio_settings.editors["window_s"].value() == 1.5
        assert other.train_panel.audio_settings.editors["n_mels"].value() == 64
        assert other.inspector.controls.editors["n_mels"].value() == 64
        assert other.train_panel.model_settings.backbone.currentData() == "small_cnn"
        assert other.train_panel.model_settings.epochs.value() == 7
        assert other.data_panel.table.rowCount() == 2
        saved = Project.load(target)
        assert saved.settings.window.window_s == 1.5 and saved.settings.spectrogram.n_mels == 64
        qtbot.waitUntil(lambda: other.scan is not None, timeout=30000)
    finally:
        other._dirty = False
        other.close()


def test_invalid_settings_are_explained_and_not_applied(qtbot, window):
    audio = window.train_panel.audio_settings
    before = window.project.settings
    audio.editors["fmin"].number.setValue(9000)  # above Nyquist of 16 kHz
    assert "Not applied" in audio.error.text() and "fmin" in audio.error.text()
    assert window.project.settings == before
    audio.editors["fmin"].number.setValue(50)
    assert audio.error.isHidden()
    assert window.project.settings.spectrogram.fmin == 50
    assert window.inspector.controls.editors["fmin"].value() == 50


def test_opening_a_broken_project_shows_why(qtbot, window, tmp_path, monkeypatch):
    bad = tmp_path / "bad.audionet.json"
    bad.write_text("{oops")
    shown = []
    monkeypatch.setattr("audionet_gui.ui.window.project_controller.show_fatal",
                        lambda parent, doing, exc, details="": shown.append(str(exc)))
    assert not window.open_project(str(bad))
    assert shown and "broken JSON" in shown[0]


def test_geometry_is_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "geo.ini"), QSettings.IniFormat)
    first = MainWindow(settings, output_root=tmp_path / "p")
    first.show()
    screen = first.screen().availableGeometry()
    minimum = first.minimumSizeHint()
    # a size other than the default that fits the (small, offscreen) screen: restoreGeometry keeps windows on it
    first.resize(min(screen.width() - 2, minimum.width() + 3), min(screen.height() - 2, minimum.height() + 5))
    qtbot.wait(50)
    size = (first.width(), first.height())
    assert size != (1200, 760)
    first.close()
    assert settings.value("window/geometry") is not None
    second = MainWindow(QSettings(str(tmp_path / "geo.ini"), QSettings.IniFormat), output_root=tmp_path / "p")
    try:
        assert second.height() == size[1]
        if minimum.width() < screen.width() - 2:  # else the window is wider than the tiny offscreen screen
            assert second.width() == size[0]
    finally:
        second.close()


def test_first_run_opens_the_demo_and_later_runs_the_last_project(qtbot, tmp_path, tone_data):
    settings = QSettings(str(tmp_path / "first.ini"), QSettings.IniFormat)
    w = MainWindow(settings, output_root=tmp_path / "p")
    try:
        open_initial_project(w, build_parser().parse_args([]))
        assert w.project.name.startswith("Demo")
        assert len(w.project.classes) == 6
        assert w.project.test_folder
        qtbot.waitUntil(lambda: w.scan is not None, timeout=30000)
        assert w.scan.report.total_files == 120
        project = Project(name="mine")
        project.add_paths([tone_data / "low", tone_data / "mid"])
        saved = project.save(tmp_path / "mine.audionet.json")
        w._dirty = False
        assert w.open_project(str(saved))
        open_initial_project(w, build_parser().parse_args([]))  # not the first run any more
        assert w.project.name == "mine"
        w.open_demo()
        # the demo opens from the user's own copy: recordings and saves never touch the bundled files
        assert w.project.path == tmp_path / "p" / "demo" / "demo.audionet.json"

        assert all(str(tmp_path / "p" / "demo") in f for c in w.project.classes for f in c.folders)
        assert not any(str(resources_dir()) in f for c in w.project.classes for f in c.folders)
    finally:
        w.cancel_job()
        if w.job:
            w.job.wait(10000)
        w._dirty = False
        w.close()


def test_menus_have_shortcuts_and_pages_switch(qtbot, window):
    a = window.actions
    assert a["open"].shortcut() == QKeySequence(QKeySequence.Open)
    assert a["train"].shortcut() == QKeySequence("Ctrl+T")
    assert a["cancel"].shortcut() == QKeySequence("Esc")
    a["page_Results"].trigger()
    assert window.current_page() == "Results"
    a["page_Data"].trigger()
    assert window.current_page() == "Data"
    assert all(window.nav.item(i).toolTip() for i in range(window.nav.count()))
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == \
        ["Data", "Inspect", "Train", "Results", "Feature map", "Identify", "Live"]


def test_about_box_names_versions_and_licences(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "AudioNet Studio" in text and "PySide6-Essentials" in text and "LGPL" in text
    assert "CC BY-SA 4.0" in text and "Free Spoken Digit Dataset" in text
    assert "tensorflow-cpu" in text


def test_dark_theme_palette_and_plot_colours(qtbot):
    app = QApplication.instance()
    try:
        assert theme.apply_theme(app, "dark") is True
        assert app.palette().color(QPalette.Window).lightness() < 80
        assert theme.plot_colors()[0] == "#1e1f22"
        assert theme.apply_theme(app, "light") is False
        assert app.palette().color(QPalette.Window).lightness() > 180
    finally:
        theme.apply_theme(app, "light")


def test_demo_files_and_credits_are_shipped():
    demo = demo_project_path()
    assert demo.is_file()
    credits = (resources_dir() / "demo" / "CREDITS.md").read_text()
    assert "CC BY-SA 4.0" in credits and "Free Spoken Digit Dataset" in credits
    project = Project.load(demo)
    assert all(Path(c.folders[0]).is_dir() for c in project.classes)


def test_clips_open_in_the_inspector_and_its_settings_come_back(qtbot, window, tone_data):
    assert isinstance(window.inspector, InspectorPanel)
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    qtbot.waitUntil(lambda: window.scan is not None, timeout=30000)
    clip = str(tone_data / "low" / "low_01.wav")
    with qtbot.waitSignal(window.inspector.loaded, timeout=30000):
        window.inspect_file(clip)
    assert window.current_page() == "Inspect"
    # the inspector draws with the project's settings at the backbone's image size
    window.project.training["backbone"] = "small_cnn"
    window.show_project()
    assert window.inspector.spectrogram_cfg.image_size == (128, 128)
    assert window.inspector.controls.editors["image_size"].value() is None  # auto: the network's
    assert window.inspector.controls.editors["image_size"].width_box.value() == 128
    # a change made in the Inspect page's form becomes the project's setting, and the Train page follows
    window.inspector.controls.editors["n_mels"].number.setValue(40)
    qtbot.waitUntil(lambda: window.project.settings.spectrogram.n_mels == 40, timeout=5000)
    assert window.project.settings.image_size is None  # the image size stays the backbone's
    assert window.isWindowModified()
    assert window.train_panel.audio_settings.editors["n_mels"].value() == 40
    # and one made on the Train page is drawn by the inspector at once
    with qtbot.waitSignal(window.inspector.image_updated, timeout=10000):
        window.train_panel.audio_settings.editors["n_mels"].number.setValue(48)
    assert window.project.settings.spectrogram.n_mels == 48
    assert window.inspector.controls.editors["n_mels"].value() == 48
    assert window.inspector.spectrogram_cfg.n_mels == 48 and window.inspector.spectrogram_cfg.image_size == (128, 128)
