"""The dataset doctor on the Data page: a Check button (with "judge labels" for the slower network check), its
own progress and Cancel, the findings (one row per finding and file), and one-click fixes for the selected row:
leave the file out of the project, or count it as another class. Both fixes change the project, never a file;
moving asks first and says so.

It shows what it is given and sends requests (the doctor controller runs the job and edits the project).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.base.jobs import Progress
from audionet_gui.ui.theme import muted_text_style
from audionet_gui.ui.widgets.job_bar import stage_title

KIND_TITLES = {
    "unreadable": "Unreadable",
    "silence": "Silent or too quiet",
    "too_short": "Too short",
    "clipping": "Clipped",
    "cross_class_duplicate": "Same audio in two classes",
    "duplicate": "Same audio twice",
    "sample_rate_mismatch": "Recorded differently",
    "imbalance": "Too little audio",
    "suspect_label": "Sounds like another class",
}
FILE_KINDS = {"unreadable", "silence", "too_short", "clipping", "cross_class_duplicate", "duplicate",
              "suspect_label"}  # findings about single files: those rows get the fixes
PATH_ROLE = Qt.UserRole
FINDING_ROLE = Qt.UserRole + 1


class DoctorView(QWidget):
    run_requested = Signal(bool)  # judge labels with the network too
    cancel_requested = Signal()
    exclude_requested = Signal(str, str)  # class, path
    move_requested = Signal(str, str, str)  # path, from class, to class
    file_activated = Signal(str)  # open in Inspect
    include_requested = Signal(str, str)  # class, path: take an excluded file back into the project

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._classes: list[str] = []
        self._findings: list = []
        self.check = QPushButton("Check data")
        self.check.setToolTip("Look for unreadable, silent, clipped, too short and duplicate files, a class "
                              "recorded differently from the rest and imbalanced classes. Files are only read.")
        self.check.clicked.connect(lambda: self.run_requested.emit(self.judge.isChecked()))
        self.judge = QCheckBox("Judge labels with the network (slower)")
        self.judge.setToolTip("Also find files that sound like another class: converts the audio and runs the "
                              "project's backbone (the features are cached for training)")
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.status = QLabel("Check the data to find problems before training.")
        self.status.setStyleSheet(muted_text_style())
        self.status.setWordWrap(True)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Problem", "Class", "What and what to do"])
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemActivated.connect(self._on_activated)

        self.exclude = QPushButton("Exclude file")
        self.exclude.setToolTip("Leave the selected files out of this project (they stay on disk, untouched)")
        self.exclude.clicked.connect(self._on_exclude)
        self.move = QPushButton("Move to class…")
        self.move.setToolTip("Count the selected file as another class in this project (it stays where it is)")
        self.move.clicked.connect(self._on_move)
        self.inspect = QPushButton("Inspect")
        self.inspect.setToolTip("Open the selected file on the Inspect page (or double-click it)")
        self.inspect.clicked.connect(lambda: self._selected_paths() and self.file_activated.emit(
            self._selected_paths()[0][1]))

        # files left out (by a fix here or earlier): the undo
        self.excluded_label = QLabel("", styleSheet=muted_text_style())
        self.excluded = QListWidget()
        self.excluded.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.excluded.setMaximumHeight(90)
        self.excluded.itemSelectionChanged.connect(self._update_buttons)
        self.excluded.itemActivated.connect(lambda item: self.file_activated.emit(item.data(PATH_ROLE)[1]))
        self.include = QPushButton("Include again")
        self.include.setToolTip("Take the selected files back into the project")
        self.include.clicked.connect(self._on_include)

        top = QHBoxLayout()
        top.addWidget(self.check)
        top.addWidget(self.judge)
        top.addWidget(self.bar, 4)
        top.addWidget(self.cancel)
        top.addStretch(1)  # the button keeps its size while no bar is shown
        fixes = QHBoxLayout()
        fixes.addWidget(self.exclude)
        fixes.addWidget(self.move)
        fixes.addWidget(self.inspect)
        fixes.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.tree, 1)
        layout.addLayout(fixes)
        left_out = QHBoxLayout()
        left_out.addWidget(self.excluded, 1)
        left_out.addWidget(self.include, 0, Qt.AlignTop)
        layout.addWidget(self.excluded_label)
        layout.addLayout(left_out)
        self.set_excluded([])
        self.set_running(False)

    # -- showing ----------------------------------------------------------------------------------------------------
    def set_classes(self, names: list[str]) -> None:
        self._classes = list(names)
        self._update_buttons()

    def set_excluded(self, excluded: list[tuple[str, str, str | None]]) -> None:
        """(class, path, the class it was moved to or None) of every file the project leaves out; hidden when
        there are none."""
        self.excluded.clear()
        for cls, path, moved_to in excluded:
            item = QListWidgetItem(f"{Path(path).name}  ({cls}" + (f", counted as {moved_to})" if moved_to else ")"))
            item.setToolTip(path)
            item.setData(PATH_ROLE, (cls, path))
            self.excluded.addItem(item)
        self.excluded_label.setText(f"Left out of the project ({len(excluded)}): the files stay on disk; select "
                                    "one and press Include again to take it back.")
        for w in (self.excluded_label, self.excluded, self.include):
            w.setVisible(bool(excluded))
        self._update_buttons()

    def set_running(self, running: bool) -> None:
        self.check.setEnabled(not running)
        self.judge.setEnabled(not running)
        self.cancel.setVisible(running)
        self.bar.setVisible(running)
        if running:
            self.bar.setRange(0, 0)
            self.status.setText("Checking…")

    def show_progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
        self.status.setText(f"{stage_title(p.stage)}: {p.done}/{p.total}" if p.total else stage_title(p.stage))

    def show_message(self, text: str) -> None:
        self.status.setText(text)

    def set_findings(self, findings: list, files: int | None = None, seconds: float | None = None) -> None:
        """Findings (core Finding objects), grouped by kind; a file finding has one child row per file."""
        self._findings = list(findings)
        self.tree.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for f in findings:
            group = groups.get(f.kind)
            if group is None:
                group = groups[f.kind] = QTreeWidgetItem(self.tree, [KIND_TITLES.get(f.kind, f.kind), "", ""])
                group.setFirstColumnSpanned(False)
            item = QTreeWidgetItem(group, ["", f.cls or "", f"{f.message}  \u2192 {f.fix}"])
            item.setToolTip(2, f"{f.message}\n\nFix: {f.fix}\n\n" + "\n".join(f.paths[:20]))
            item.setData(0, FINDING_ROLE, f)
            if f.kind in FILE_KINDS:
                for path in f.paths if len(f.paths) > 1 else []:
                    child = QTreeWidgetItem(item, ["", _class_of(f, path), Path(path).name])
                    child.setToolTip(2, path)
                    child.setData(0, PATH_ROLE, path)
                    child.setData(0, FINDING_ROLE, f)
                if len(f.paths) == 1:
                    item.setData(0, PATH_ROLE, f.paths[0])
            item.setExpanded(f.kind in ("duplicate", "cross_class_duplicate"))
        for kind, group in groups.items():
            group.setText(0, f"{KIND_TITLES.get(kind, kind)} ({group.childCount()})")
            group.setExpanded(True)
        done = f"Checked {files} files in {seconds:.0f} s: " if files is not None and seconds is not None else ""
        self.status.setText(done + (f"{len(findings)} problems found; select one to fix it."
                                    if findings else "no problems found."))
        self._update_buttons()

    def remove_path(self, path: str) -> None:
        """A fixed file leaves the list (its finding goes when no file of it is left)."""
        for f in self._findings:
            if path in f.paths and f.kind in FILE_KINDS:
                f.paths = [p for p in f.paths if p != path]
        self.set_findings([f for f in self._findings if f.paths or f.kind not in FILE_KINDS])

    def clear(self) -> None:
        self._findings = []
        self.tree.clear()
        self.status.setText("Check the data to find problems before training.")
        self._update_buttons()

    # -- requests ---------------------------------------------------------------------------------------------------
    def _selected_paths(self) -> list[tuple[str, str, object]]:
        """(class, path, finding) of each selected file row."""
        out = []
        for item in self.tree.selectedItems():
            path, finding = item.data(0, PATH_ROLE), item.data(0, FINDING_ROLE)
            if path and finding is not None:
                out.append((_class_of(finding, path), path, finding))
        return out

    def _update_buttons(self) -> None:
        chosen = self._selected_paths()
        self.exclude.setEnabled(bool(chosen))
        self.inspect.setEnabled(bool(chosen))
        self.move.setEnabled(len(chosen) == 1 and len(self._classes) > 1 and bool(chosen[0][0]))
        self.include.setEnabled(bool(self.excluded.selectedItems()))

    def _on_activated(self, item: QTreeWidgetItem) -> None:
        path = item.data(0, PATH_ROLE)
        if path:
            self.file_activated.emit(path)

    def _on_exclude(self) -> None:
        for cls, path, _ in self._selected_paths():
            if cls:
                self.exclude_requested.emit(cls, path)

    def _on_include(self) -> None:
        chosen = [item.data(PATH_ROLE) for item in self.excluded.selectedItems()]  # each request redraws the list
        for cls, path in chosen:
            self.include_requested.emit(cls, path)

    def _on_move(self) -> None:
        chosen = self._selected_paths()
        if len(chosen) != 1:
            return
        cls, path, finding = chosen[0]
        others = [c for c in self._classes if c != cls]
        suggested = getattr(finding, "suggested_class", None)
        current = others.index(suggested) if suggested in others else 0
        to, ok = QInputDialog.getItem(self, "Move to class", f"Count {Path(path).name} as which class?", others,
                                      current, False)
        if not ok or not to:
            return
        answer = QMessageBox.question(
            self, "Move to class",
            f"Count {Path(path).name} as '{to}' instead of '{cls}' in this project?\n\n"
            "The file stays where it is on disk; only the project changes (Undo with Exclude/Include on the "
            "Data page or by moving it back).")
        if answer == QMessageBox.Yes:
            self.move_requested.emit(path, cls, to)


def _class_of(finding, path: str) -> str:
    """The class a file of a finding is in: the finding's class, else the folder the file sits in (duplicates
    across classes)."""
    return finding.cls or Path(path).parent.name
