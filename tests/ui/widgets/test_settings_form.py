"""ui/widgets/settings_form.py: one editor per setting, made from the metadata; edits go out as valid
ImageSettings; refused values are explained and not sent; two forms kept in step show the same settings."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from audionet_gui.core.settings import ImageSettings, setting_fields
from audionet_gui.ui.widgets.settings_form import SettingsForm
from tests.settings_values import other_value


@pytest.fixture
def form(qtbot):
    f = SettingsForm()
    qtbot.addWidget(f)
    f.show()
    return f


def user_sets(form: SettingsForm, name: str, value) -> None:
    editor = form.editors[name]
    if editor.auto is not None:
        editor.auto.setChecked(value is None)
    if value is None:
        return
    kind = editor.field.kind
    if kind == "bool":
        editor.check.setChecked(value)
    elif kind == "choice":
        editor.combo.setCurrentIndex(editor.combo.findData(value))
    elif kind == "size":
        editor.width_box.setValue(value[0])
        editor.height_box.setValue(value[1])
    else:
        editor.number.setValue(value)


def test_every_setting_has_an_editor_made_from_its_metadata(form):
    assert list(form.editors) == [f.name for f in setting_fields()]
    for f in setting_fields():
        editor, info = form.editors[f.name], f.info
        assert form.labels[f.name].text() == info.label and editor.toolTip() == info.help
        assert (editor.auto is not None) == info.optional
        assert form.advanced.isAncestorOf(editor) == info.advanced, f.name
        if f.kind == "choice":
            assert isinstance(editor.combo, QComboBox)
            assert [editor.combo.itemData(i) for i in range(editor.combo.count())] == list(info.choices)
        elif f.kind in ("int", "float"):
            box = editor.number
            assert isinstance(box, QSpinBox if f.kind == "int" else QDoubleSpinBox)
            assert (box.minimum(), box.maximum()) == (info.min, info.max)
            assert box.suffix() == (f" {info.unit}" if info.unit else "")
            assert not box.keyboardTracking()
        assert editor.value() == f.default, f.name


@pytest.mark.parametrize("field", setting_fields(), ids=lambda f: f.name)
def test_each_editor_sends_its_setting(qtbot, form, field):
    form.show_advanced()
    if field.info.relevant is not None:  # make the field matter first (n_chroma needs chroma)
        other, values = field.info.relevant
        user_sets(form, other, values[0])
    sent = []
    form.edited.connect(sent.append)
    before = form.settings()
    value = other_value(field)
    user_sets(form, field.name, value)
    assert sent and sent[-1].value(field.name) == value and form.settings() == sent[-1]
    assert sent[-1] == before.with_values({field.name: value})  # nothing else changed
    assert form.editors[field.name].isEnabled()


def test_refused_values_are_explained_not_sent_and_applied_once_valid(form):
    sent = []
    form.edited.connect(sent.append)
    user_sets(form, "fmin", 9000.0)
    assert sent == [] and form.error.isVisible() and "fmin" in form.error.text()
    user_sets(form, "sample_rate", 32000)  # now 9000 Hz is below Nyquist: both are applied
    assert form.error.isHidden()
    assert (sent[-1].spectrogram.fmin, sent[-1].spectrogram.sample_rate) == (9000.0, 32000)


def test_settings_shown_are_not_rounded_or_clamped_by_the_editors(form):
    # off the editors' steps and decimals (a value outside a field's bounds cannot be made at all: issue 14)
    odd = ImageSettings().with_values({"silence_db": -50.55, "sample_rate": 44_123})
    form.set_settings(odd)
    sent = []
    form.edited.connect(sent.append)
    user_sets(form, "n_mels", 64)
    assert sent[-1].window.silence_db == -50.55 and sent[-1].spectrogram.sample_rate == 44_123


def test_auto_values_show_what_they_mean(form):
    settings = ImageSettings()
    form.set_settings(settings, settings.for_backbone("small_cnn"))
    size = form.editors["image_size"]
    assert size.value() is None and size.auto.isChecked() and not size.width_box.isEnabled()
    assert (size.width_box.value(), size.height_box.value()) == (128, 128)
    assert form.editors["fmax"].number.value() == 8000
    sent = []
    form.edited.connect(sent.append)
    size.auto.setChecked(False)
    assert sent[-1].image_size == (128, 128)
    size.auto.setChecked(True)
    assert sent[-1].image_size is None


def test_settings_that_do_not_apply_are_greyed(form):
    assert form.editors["n_mels"].isEnabled() and not form.editors["n_chroma"].isEnabled()
    user_sets(form, "kind", "chroma")
    assert not form.editors["n_mels"].isEnabled() and form.editors["n_chroma"].isEnabled()
    assert not form.editors["fmin"].isEnabled() and not form.labels["fmin"].isEnabled()
    user_sets(form, "skip_silent", False)
    assert not form.editors["silence_db"].isEnabled()


def test_two_forms_kept_in_step_show_the_same_settings(qtbot):
    train, inspect = SettingsForm(), SettingsForm(compact=True)
    for f in (train, inspect):
        qtbot.addWidget(f)
    owner = {"settings": ImageSettings()}  # what the main window does: one owner, both forms follow

    def adopt(settings):
        owner["settings"] = settings
        train.set_settings(settings)
        inspect.set_settings(settings)

    train.edited.connect(adopt)
    inspect.edited.connect(adopt)
    user_sets(train, "n_mels", 64)
    user_sets(inspect, "window_s", 1.5)
    assert owner["settings"].spectrogram.n_mels == 64 and owner["settings"].window.window_s == 1.5
    assert train.settings() == inspect.settings() == owner["settings"]
    assert inspect.editors["n_mels"].value() == 64 and train.editors["window_s"].value() == 1.5


def test_restore_defaults(form):
    user_sets(form, "n_mels", 64)
    sent = []
    form.edited.connect(sent.append)
    form.defaults.click()
    assert sent == [ImageSettings()] and form.editors["n_mels"].value() == 128
