"""ui/widgets/settings_panel.py: the network panel shows and edits the project's training plan with editors made
from the plan's metadata; its values keep every other key of the training section."""

from __future__ import annotations

from audionet_gui.core.settings import TrainingPlan, training_plan_fields
from audionet_gui.ui.widgets.settings_panel import ModelSettingsPanel


def test_the_training_plan_is_shown_and_edited_in_the_network_panel(qtbot):
    panel = ModelSettingsPanel()
    qtbot.addWidget(panel)
    assert list(panel.plan_editors) == [f.name for f in training_plan_fields()]
    panel.set_values({"backbone": "small_cnn", "weights": "none", "epochs": 12, "augmented_copies": 1,
                      "patience": 4, "batch_size": 16})
    assert panel.plan_editors["augmented_copies"].value() == 1 and panel.plan_editors["patience"].value() == 4
    with qtbot.waitSignal(panel.changed) as edit:
        panel.plan_editors["augmented_copies"].number.setValue(0)
    training = edit.args[0]
    assert training["augmented_copies"] == 0 and training["patience"] == 4
    assert training["batch_size"] == 16 and training["epochs"] == 12  # the rest of the section is kept
    assert TrainingPlan.from_training(training) == TrainingPlan(augmented_copies=0, patience=4)
    panel.set_values({"backbone": "small_cnn"})  # an older project: the plan's defaults
    assert TrainingPlan.from_training(panel.values()) == TrainingPlan()
