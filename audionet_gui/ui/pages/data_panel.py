"""The Data page: the classes (one row each), what a scan found in them, the clips of the selected class,
and the optional test folder. Accepts folders and files dropped from the file manager.

It shows state and sends requests; the main window edits the project and starts scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.base.words import count
from audionet_gui.resources import knows_demo_speakers
from audionet_gui.ui.dialogs.folder_dialog import start_dir
from audionet_gui.ui.guide import data_step
from audionet_gui.ui.theme import muted_text_style, warning_text_style
from audionet_gui.ui.widgets.doctor_view import DoctorView
from audionet_gui.ui.widgets.next_step import NextStep

COLUMNS = ["Class", "Sources", "Clips", "Duration", "Unreadable", "Warnings"]


@dataclass
class ClassRow:
    """What the table shows for one class (``None`` = not scanned yet)."""

    name: str
    sources: list[str]
    clips: int | None = None
    duration_s: float | None = None
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def local_paths(mime) -> list[str]:
    """The local files/folders in a drag's mime data (non-local URLs are ignored)."""
    if not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def accept_local_paths(event) -> None:
    """Accept a drag that carries local files or folders, ignore any other (enter and move events alike)."""
    if local_paths(event.mimeData()):
        event.acceptProposedAction()
    else:
        event.ignore()


def format_duration(s: float | None) -> str:
    if s is None:
        return "…"
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m} min {sec:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


class ClassTable(QTableWidget):
    """The class table; a drop on a row adds to that class, elsewhere it makes new classes."""

    paths_dropped = Signal(list, object)  # paths, target class name or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        h = self.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.Stretch)
        h.setSectionResizeMode(5, QHeaderView.Stretch)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DropOnly)
        self._fit_columns: list[int] = []

    # A column that fits its contents measures every row again after each setItem: filling the table cell by cell
    # cost ~5 ms a cell of GUI time when a scan arrived. While filling, those columns are fixed; the header fits them
    # once, afterwards (it does that in a later turn of the event loop).
    def fill_started(self) -> None:
        h = self.horizontalHeader()
        self._fit_columns = [c for c in range(self.columnCount())
                             if h.sectionResizeMode(c) == QHeaderView.ResizeToContents]
        for c in self._fit_columns:
            h.setSectionResizeMode(c, QHeaderView.Fixed)

    def fill_finished(self) -> None:
        for c in self._fit_columns:
            self.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeToContents)
        self._fit_columns = []

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        accept_local_paths(e)

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, e: QDropEvent) -> None:
        paths = local_paths(e.mimeData())
        if not paths:
            e.ignore()
            return
        pos = e.position() if hasattr(e, "position") else QPointF(e.pos())
        row = self.rowAt(int(pos.y()))
        target = self.item(row, 0).text() if row >= 0 and self.item(row, 0) else None
        e.acceptProposedAction()
        self.paths_dropped.emit(paths, target)


class DataPanel(QWidget):
    paths_dropped = Signal(list, object)  # paths, class name to add to (None = new classes)
    add_folder_requested = Signal()
    add_files_requested = Signal()
    rename_requested = Signal(str, str)
    remove_requested = Signal(list)
    merge_requested = Signal(list, str)
    test_folder_changed = Signal(object)  # str or None
    rescan_requested = Signal()
    clip_activated = Signal(str)  # a clip to inspect
    action_requested = Signal(str)  # the next step's button (ui/guide.py actions)

    def __init__(self, parent: QWidget | None = None, state=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.state = state  # ui.state.AppState: the project and its scan (None: shown by set_rows alone)
        self._rows: list[ClassRow] = []
        self._shown: tuple | None = None  # (rows, summary) on screen: the table is rebuilt only when they change
        self._filling = False

        self.hint = QLabel("Drag folders of recordings here: one folder per speaker or sound.\n"
                           "Each folder becomes a class named after it. Loose files join the class you drop them on.")
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(muted_text_style() + "font-size: 13pt; padding: 24px;")

        self.next_step = NextStep()
        self.next_step.action.connect(self.action_requested)
        self.add_folder = QPushButton("Add class folder…")
        self.add_folder.setToolTip("Choose folders of recordings: each becomes a class named after it, or a folder "
                                   "of speaker folders one class per subfolder (Ctrl+Shift+O)")
        self.add_files = QPushButton("Add files…")
        self.add_files.setToolTip("Add single audio files to the selected class "
                                  "(or to a class named after their folder)")
        self.rename = QPushButton("Rename…")
        self.rename.setToolTip("Rename the selected class (or double-click its name) (F2)")
        self.merge = QPushButton("Merge…")
        self.merge.setToolTip("Join the selected classes into one (select two or more rows)")
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Remove the selected classes from the project (files on disk are not touched) (Del)")
        self.rescan = QPushButton("Check again")
        self.rescan.setToolTip("Scan all class folders again for new, changed or unreadable files (F5)")
        for b, sig in ((self.add_folder, self.add_folder_requested), (self.add_files, self.add_files_requested),
                       (self.rescan, self.rescan_requested)):
            b.clicked.connect(sig)
        self.rename.clicked.connect(self._ask_rename)
        self.merge.clicked.connect(self._ask_merge)
        self.remove.clicked.connect(self._ask_remove)

        self.table = ClassTable()
        self.table.paths_dropped.connect(self.paths_dropped)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.summary = QLabel("")
        self.summary.setWordWrap(True)

        self.clips = QListWidget()
        self.clips.setToolTip("Double-click a clip to see its spectrogram on the Inspect page")
        self.clips.itemActivated.connect(lambda it: self.clip_activated.emit(it.data(Qt.UserRole)))
        self.clips_title = QLabel("Clips")
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(warning_text_style())
        self.problems.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.test_folder = QLineEdit()
        self.test_folder.setReadOnly(True)
        self.test_folder.setPlaceholderText("none: a fixed share of each class's files is held out for testing")
        self.test_folder.setToolTip("Optional: a folder with one subfolder per class, used only for the final test")
        choose_test = QPushButton("Choose…")
        choose_test.setToolTip("Choose a test folder (subfolders named like the classes)")
        choose_test.clicked.connect(self._choose_test_folder)
        clear_test = QPushButton("Clear")
        clear_test.setToolTip("Use no test folder")
        clear_test.clicked.connect(lambda: self.test_folder_changed.emit(None))

        buttons = QHBoxLayout()
        for b in (self.add_folder, self.add_files, self.rename, self.merge, self.remove):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.rescan)
        test_row = QHBoxLayout()
        test_row.addWidget(QLabel("Test folder:"))
        test_row.addWidget(self.test_folder, 1)
        test_row.addWidget(choose_test)
        test_row.addWidget(clear_test)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.next_step)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.hint)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.summary)
        top_layout.addLayout(test_row)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.clips_title)
        bottom_layout.addWidget(self.clips, 1)
        bottom_layout.addWidget(self.problems)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        self.doctor = DoctorView()  # the dataset doctor (ui/window/doctor_controller.py runs it)
        split.addWidget(self.doctor)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._update_buttons()
        if state is not None:
            state.project_changed.connect(self.show_state)
            state.project_edited.connect(self.show_state)
            state.scan_changed.connect(self.show_state)
            state.model_changed.connect(self.show_state)
            self.show_state()

    # -- showing state ----------------------------------------------------------------------------------------
    def show_state(self, *_args) -> None:
        """The state's project and scan (after any change of either)."""
        project, scan = self.state.project, self.state.scan
        self.set_rows(class_rows(project, scan), data_summary(project, scan))
        self.set_test_folder(project.test_folder)
        model = self.state.model
        self.next_step.set_step(data_step(project, scan, model, knows_demo_speakers(model.labels if model else ())))

    def set_rows(self, rows: list[ClassRow], summary: str = "") -> None:
        # Every project edit and every new model come here; rebuilding an unchanged table cost tens of ms of GUI
        # time in the turn that shows a finished model (tests/ui/window/test_responsiveness).
        if self._shown == (rows, summary):
            return
        self._shown = (list(rows), summary)
        selected = set(self.selected_classes())
        self._rows = list(rows)
        self._filling = True
        try:
            self.table.fill_started()
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                cells = [
                    row.name,
                    ", ".join(_short(s) for s in row.sources),
                    "…" if row.clips is None else str(row.clips),
                    format_duration(row.duration_s),
                    "…" if row.clips is None else str(len(row.unreadable)),
                    "; ".join(row.warnings),
                ]
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if c != 0:
                        item.setFlags(item.flags() & ~Qt.ItemIsEditable)
                    else:
                        item.setToolTip("Double-click to rename")
                    if c == 1:
                        item.setToolTip("\n".join(row.sources))
                    if c == 4 and row.unreadable:
                        item.setToolTip("\n".join(f"{Path(p).name}: {why}" for p, why in row.unreadable[:30]))
                    if c == 5 and row.warnings:
                        item.setToolTip("\n".join(row.warnings))
                    if c in (2, 3, 4):
                        item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    self.table.setItem(r, c, item)
                if row.name in selected:
                    self.table.selectRow(r)
        finally:
            self.table.fill_finished()
            self._filling = False
        self.hint.setVisible(not rows)
        self.table.setVisible(bool(rows))
        self.summary.setText(summary)
        self._on_selection()

    def set_test_folder(self, path: str | None) -> None:
        self.test_folder.setText(path or "")

    def selected_classes(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).text() for r in rows if self.table.item(r, 0)]

    def select_class(self, name: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0) and self.table.item(r, 0).text() == name:
                self.table.selectRow(r)
                return

    # -- drops on the page (outside the table) ------------------------------------------------------------------
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        accept_local_paths(e)

    def dropEvent(self, e: QDropEvent) -> None:
        paths = local_paths(e.mimeData())
        if paths:
            e.acceptProposedAction()
            self.paths_dropped.emit(paths, None)

    # -- requests -------------------------------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        old = self._rows[item.row()].name
        new = item.text().strip()
        if new != old:
            self._shown = None  # the cell holds typed text now: show the state again, renamed or refused
            self.rename_requested.emit(old, new)
            if self.state is not None:
                self.show_state()

    def _ask_rename(self) -> None:
        names = self.selected_classes()
        if len(names) != 1:
            return
        new, ok = QInputDialog.getText(self, "Rename class", f"New name for '{names[0]}':", text=names[0])
        if ok and new.strip() and new.strip() != names[0]:
            self.rename_requested.emit(names[0], new.strip())

    def _ask_merge(self) -> None:
        names = self.selected_classes()
        if len(names) < 2:
            return
        into, ok = QInputDialog.getText(self, "Merge classes", f"Name of the merged class ({', '.join(names)}):",
                                        text=names[0])
        if ok and into.strip():
            self.merge_requested.emit(names, into.strip())

    def _ask_remove(self) -> None:
        names = self.selected_classes()
        if not names:
            return
        answer = QMessageBox.question(self, "Remove classes",
                                      f"Remove {', '.join(names)} from the project?\n"
                                      "The files on disk stay as they are.")
        if answer == QMessageBox.Yes:
            self.remove_requested.emit(names)

    def _choose_test_folder(self) -> None:
        where = start_dir(self.state.project) if self.state is not None else ""
        path = QFileDialog.getExistingDirectory(self, "Choose the test folder (one subfolder per class)", where)
        if path:
            self.test_folder_changed.emit(path)

    def _on_selection(self) -> None:
        self._update_buttons()
        names = self.selected_classes()
        self.clips.clear()
        self.problems.setText("")
        row = next((r for r in self._rows if names and r.name == names[0]), None)
        if row is None:
            self.clips_title.setText("Clips: select a class to see its files")
            return
        self.clips_title.setText(f"Clips of {row.name}: {len(row.files)} (double-click one to inspect it)")
        for f in row.files[:5000]:
            it = QListWidgetItem(_short(f, 2))
            it.setData(Qt.UserRole, f)
            it.setToolTip(f)
            self.clips.addItem(it)
        if row.unreadable:
            lines = [f"{Path(p).name}: {why}" for p, why in row.unreadable[:20]]
            more = f"\n… and {len(row.unreadable) - 20} more (see the log)" if len(row.unreadable) > 20 else ""
            self.problems.setText("Unreadable, left out:\n" + "\n".join(lines) + more)

    def _update_buttons(self) -> None:
        n = len(self.selected_classes())
        self.rename.setEnabled(n == 1)
        self.merge.setEnabled(n >= 2)
        self.remove.setEnabled(n >= 1)
        self.add_files.setEnabled(True)


def class_rows(project, scan) -> list[ClassRow]:
    """One row per class of ``project`` (a core Project), with what ``scan`` (a ProjectScan or None) found."""
    reports = {c.name: c for c in scan.report.classes} if scan else {}
    rows = []
    for c in project.classes:
        rep = reports.get(c.name)
        rows.append(ClassRow(c.name, c.sources(), rep.files if rep else None, rep.duration_s if rep else None,
                             list(rep.unreadable) if rep else [], list(rep.warnings) if rep else [],
                             scan.files.get(c.name, []) if scan else []))
    return rows


def data_summary(project, scan) -> str:
    if not project.classes:
        return ""
    if not scan:
        return f"{count(len(project.classes), 'class')}; checking the files…"
    r = scan.report
    text = (f"{count(len(r.classes), 'class')}, {count(r.total_files, 'clip')}, "
            f"{r.total_duration_s / 60:.1f} min of audio")
    if r.test_files:
        text += f"; {count(r.test_files, 'clip')} in the test folder"
    if r.warnings:
        text += ". " + "; ".join(r.warnings)
    return text


def _short(path: str, parts: int = 2) -> str:
    p = Path(path)
    tail = p.parts[-parts:] if len(p.parts) > parts else p.parts
    return ("…/" if len(p.parts) > parts else "") + "/".join(tail)
