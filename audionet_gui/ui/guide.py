"""The first-run path (add classes -> train -> try it), as the next step each page offers for the state it is in.

Pure functions of the state (a core ``Project``, its scan, the ``ModelInfo``): the pages show the step and send
its action; the main window carries the action out. Actions: "add_folder", "open_demo", "train", "identify_demo",
"open_model" and "page:<Name>".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audionet_gui.core.base.words import count

STEPS = ("Add classes", "Train", "Try it")


@dataclass(frozen=True)
class Step:
    text: str
    buttons: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (action, button text)


def _classes_ready(project, scan) -> bool:
    return len(project.classes) >= 2 and scan is not None and sum(
        1 for c in scan.report.classes if c.files > 0) >= 2


def data_step(project, scan, model, is_demo: bool = False) -> Step:
    n = len(project.classes)
    if n == 0:
        return Step("Step 1 of 3: add one folder of recordings per speaker or sound (or drag folders here). "
                    "New here? The bundled demo has six speakers ready to train.",
                    (("add_folder", "Add class folder…"), ("open_demo", "Open the demo")))
    if n == 1:
        return Step("Step 1 of 3: one class so far. Add at least one more: another speaker, or background noise.",
                    (("add_folder", "Add class folder…"),))
    if scan is None:
        return Step(f"{count(n, 'class')}: checking the files…")
    if not _classes_ready(project, scan):
        return Step("Step 1 of 3: at least two classes need readable audio before training.",
                    (("add_folder", "Add class folder…"),))
    if model is None:
        return Step(f"Step 2 of 3: {count(n, 'class')} ready. Train a model on them.", (("page:Train", "Next: Train"),))
    return Step("Step 3 of 3: the model is trained. Try it on a file or at the microphone.",
                (("identify_demo" if is_demo else "page:Identify",
                  "Try the demo conversation" if is_demo else "Next: Identify"),))


def train_step(project, scan, model) -> Step:
    n = len(project.classes)
    if n < 2:
        return Step("First add at least two classes on the Data page (one folder of recordings per speaker or "
                    "sound), then come back and press Train.", (("page:Data", "Go to Data"),))
    if scan is None:
        return Step(f"{count(n, 'class')}: checking the files… then press Train.")
    if not _classes_ready(project, scan):
        return Step("At least two classes need readable audio: see the Data page.", (("page:Data", "Go to Data"),))
    if model is None:
        clips = scan.report.total_files
        return Step(f"{count(n, 'class')} and {count(clips, 'clip')} ready. Press Train: it makes the images, "
                    "trains and tests the model, with curves below.")
    return Step("Trained. See how well the model does on audio it never heard, then try it.",
                (("page:Results", "See the results"),))


def results_step(model) -> Step:
    if model is None:
        return Step("Step 2 of 3: train a model on the Train page (or open a saved model folder) to see here how "
                    "well it names recordings it never heard.", (("page:Train", "Go to Train"),))
    return Step("Next: try the model on a file (Identify) or at the microphone (Live).",
                (("page:Identify", "Next: Identify"),))
