"""The Heads tab: hydra models, their heads and versions side by side; extract, train a head,
promote, roll back, clean up."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from yolo_studio.hydra.store import HydraStore, list_hydras
from yolo_studio.ui.hydra.extract_dialog import ExtractDialog
from yolo_studio.ui.layout import column, splitter
from yolo_studio.workers.job import JobThread

COLUMNS = ("version", "active", "F1", "mAP50", "mAP50-95", "precision", "recall", "classes", "created", "notes")


class HeadsTab(QtWidgets.QWidget):
    status_message = QtCore.Signal(str)
    train_head_requested = QtCore.Signal(object, str, str)  # store, head, data path
    extracted = QtCore.Signal(dict)

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.job = None
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setHeaderLabels(["hydra model / head", "active"])
        self.tree.setColumnWidth(0, 220)
        self.tree.currentItemChanged.connect(self._show_versions)
        extract = QtWidgets.QPushButton("Extract…", clicked=self.extract_dialog,
                                        toolTip="Split a trained detector into a shared backbone and its first head")
        self.train_button = QtWidgets.QPushButton("Train a head…", clicked=self.train_dialog)
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(extract)
        row.addWidget(self.train_button)
        left_layout.addLayout(row)

        self.title = QtWidgets.QLabel("Select a head", wordWrap=True)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.promote_button = QtWidgets.QPushButton("Promote", clicked=self.promote_selected)
        self.rollback_button = QtWidgets.QPushButton("Roll back", clicked=self.rollback)
        self.keep = QtWidgets.QSpinBox(minimum=1, maximum=100, value=3, prefix="keep ")
        cleanup = QtWidgets.QPushButton("Clean up", clicked=self.cleanup)
        buttons = QtWidgets.QHBoxLayout()
        for w in (self.promote_button, self.rollback_button, self.keep, cleanup):
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.rule = QtWidgets.QLabel("A new version becomes active by itself when its metric beats the active "
                                     "version's by more than 2 %; otherwise promote it here.", wordWrap=True)
        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.title)
        right_layout.addWidget(self.table, 1)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.rule)
        column(splitter(left, right, sizes=[330, 1000]), on=self, margin=2)
        self.refresh()

    @property
    def hydra_dir(self) -> Path:
        return self.project.root / "hydra"

    def refresh(self, select: tuple | None = None) -> None:
        select = select or self.selection()
        self.tree.clear()
        for store in list_hydras(self.hydra_dir):
            state = store.load()
            top = QtWidgets.QTreeWidgetItem([f"{store.name} (split at {state['split']})", ""])
            top.setData(0, QtCore.Qt.UserRole, (store.name, None))
            self.tree.addTopLevelItem(top)
            for head, entry in sorted(state["heads"].items()):
                active = f"v{entry['active']}" if entry["active"] is not None else "–"
                item = QtWidgets.QTreeWidgetItem([head, active])
                item.setData(0, QtCore.Qt.UserRole, (store.name, head))
                top.addChild(item)
                if select == (store.name, head):
                    self.tree.setCurrentItem(item)
            top.setExpanded(True)
        if self.tree.topLevelItemCount() == 0:
            self.title.setText("No hydra model yet: <b>Extract…</b> splits a trained detector (a run or a "
                               "registered model) into a shared backbone and its first head.")
        self._show_versions(self.tree.currentItem())

    def selection(self) -> tuple | None:
        item = self.tree.currentItem()
        return item.data(0, QtCore.Qt.UserRole) if item is not None else None

    def store(self) -> HydraStore | None:
        chosen = self.selection()
        return HydraStore(self.hydra_dir / chosen[0]) if chosen else None

    def _show_versions(self, item, _previous=None) -> None:
        chosen = item.data(0, QtCore.Qt.UserRole) if item is not None else None
        head = chosen[1] if chosen else None
        for b in (self.promote_button, self.rollback_button):
            b.setEnabled(head is not None)
        self.train_button.setEnabled(chosen is not None)
        self.table.setRowCount(0)
        if not head:
            return
        store = HydraStore(self.hydra_dir / chosen[0])
        active = store.heads()[head]["active"]
        self.title.setText(f"<b>{chosen[0]} / {head}</b>: versions side by side (the active one is marked)")
        for row, v in enumerate(store.history(head)):
            m = v.metrics
            values = (f"v{v.version}", "●" if v.version == active else "", *(_num(m.get(k)) for k in (
                "f1", "mAP50", "mAP50-95", "precision", "recall")), ", ".join(v.classes), v.created[:16], v.notes)
            self.table.insertRow(row)
            for col, value in enumerate(values):
                cell = QtWidgets.QTableWidgetItem(value)
                cell.setData(QtCore.Qt.UserRole, v.version)
                self.table.setItem(row, col, cell)

    # ------------------------------------------------------------------ actions

    def promote_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        chosen = self.selection()
        if not rows or not chosen or not chosen[1]:
            self.status_message.emit("Select a version to promote")
            return
        version = self.table.item(rows[0].row(), 0).data(QtCore.Qt.UserRole)
        self._change(lambda s: s.promote(chosen[1], version), f"{chosen[1]} v{version} is active")

    def rollback(self) -> None:
        chosen = self.selection()
        if chosen and chosen[1]:
            self._change(lambda s: f"{chosen[1]} rolled back to v{s.rollback(chosen[1])}")

    def cleanup(self) -> None:
        chosen = self.selection()
        if not chosen or not chosen[1]:
            return
        answer = QtWidgets.QMessageBox.question(
            self, "Clean up", f"Delete all but the newest {self.keep.value()} versions of '{chosen[1]}' (never the "
            "active one)? This cannot be undone.")
        if answer == QtWidgets.QMessageBox.Yes:
            self._change(lambda s: f"deleted {len(s.cleanup(chosen[1], self.keep.value()))} versions")

    def _change(self, action, message: str | None = None) -> None:
        store = self.store()
        try:
            result = action(store)
        except (ValueError, OSError) as exc:
            QtWidgets.QMessageBox.warning(self, "Heads", str(exc))
            return
        self.status_message.emit(message or str(result))
        self.refresh()

    def extract_dialog(self) -> None:
        from yolo_studio.training.registry import list_entries
        from yolo_studio.training.run_store import list_runs

        sources = [(f"{e.ref} (registry)", str(e.weights)) for e in list_entries(self.project.registry_dir)]
        sources += [(f"{r.name} (run)", str(r.path / "weights" / "best.pt")) for r in list_runs(self.project.runs_dir)
                    if (r.path / "weights" / "best.pt").is_file()]
        if not sources:
            QtWidgets.QMessageBox.information(self, "Extract", "Train a detector first: extraction needs a run's "
                                              "best.pt or a registered model.")
            return
        dialog = ExtractDialog(sources, self)
        if dialog.exec():
            self.extract(*dialog.values())

    def extract(self, weights: str, name: str, head: str, split: int | None = None):
        from yolo_studio.hydra.model import extract_in_project

        self.status_message.emit(f"Extracting '{name}'…")
        self.job = JobThread(lambda _job: extract_in_project(self.project, name, weights, head, split), "extract",
                             self)
        self.job.finished_with.connect(self._on_extracted)
        self.job.failed.connect(lambda message: QtWidgets.QMessageBox.warning(self, "Cannot extract", message))
        self.job.start()
        return self.job

    def _on_extracted(self, result: dict) -> None:
        self.status_message.emit(f"Extracted '{Path(result['hydra']).name}': backbone = layers 0..{result['split'] - 1}"
                                 ", the backbone and head reproduce the model exactly")
        self.refresh(select=(Path(result["hydra"]).name, result["head"]))
        self.extracted.emit(result)

    def train_dialog(self) -> None:
        from yolo_studio.core.project.dataset_import import list_datasets

        chosen = self.selection()
        datasets = [(e.name, str(e.data)) for e in list_datasets(self.project) if e.data.is_file()]
        if not chosen or not datasets:
            QtWidgets.QMessageBox.information(self, "Train a head", "Select a hydra model, and import the head's "
                                              "dataset in the Datasets tab first.")
            return
        dialog = _Form(self, f"Train a head of '{chosen[0]}'", [("Head name", chosen[1] or "new-head"),
                                                                 ("Dataset", [d[0] for d in datasets])])
        if dialog.exec():
            head, dataset = dialog.values()
            self.train_head_requested.emit(self.store(), head, dict(datasets)[dataset])


class _Form(QtWidgets.QDialog):
    """A small form: (label, default text | list of choices) rows."""

    def __init__(self, parent, title: str, rows: list):
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QtWidgets.QFormLayout(self)
        self.fields = []
        for label, value in rows:
            if isinstance(value, list):
                field = QtWidgets.QComboBox()
                field.addItems(value)
            else:
                field = QtWidgets.QLineEdit(value)
            form.addRow(label, field)
            self.fields.append(field)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> list:
        return [f.currentText() if isinstance(f, QtWidgets.QComboBox) else f.text().strip() for f in self.fields]


def _num(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "–"
