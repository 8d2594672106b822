import numpy as np

from audionet_gui.ui.pages.results_panel import ConfusionHeatmap

NAMES = ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]


def _ticks(heatmap, axis):
    return [name for _pos, name in heatmap.plot.getAxis(axis)._tickLevels[0]]


def test_column_names_are_cut_to_their_cells_and_rows_keep_theirs(qtbot):
    heatmap = ConfusionHeatmap()
    qtbot.addWidget(heatmap)
    heatmap.resize(260, 260)
    heatmap.show()
    qtbot.waitExposed(heatmap)
    heatmap.set_matrix(np.eye(6) * 5, NAMES)
    qtbot.wait(50)
    columns = _ticks(heatmap, "bottom")
    assert _ticks(heatmap, "left") == NAMES
    assert len(columns) == 6 and any(c.endswith("\u2026") for c in columns)
    assert all(NAMES[i].startswith(c.rstrip("\u2026")) for i, c in enumerate(columns))
    heatmap.resize(1400, 1400)  # room enough: whole names again
    qtbot.waitUntil(lambda: _ticks(heatmap, "bottom") == NAMES, timeout=2000)
