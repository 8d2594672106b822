"""The small two-class dataset most conversion tests share."""

import pytest

from tests.audio_factory import make_class_tree, voice


@pytest.fixture
def data(tmp_path):
    root = make_class_tree(tmp_path / "data", {
        "low": [voice(120, 3.0, seed=i) for i in range(6)],
        "high": [voice(240, 3.0, seed=i + 10) for i in range(6)],
    })
    return root
