"""Settings > Clusters: Ray clusters by name, their data mappings, and "Test connection".

A cluster is the address of its Ray Jobs API and, for labs with shared storage, folders of this
computer and where the nodes see them. Test connection lists the nodes (CPUs, GPUs with memory, free
disk) and what a job there runs with (Python, PyTorch, Ultralytics), off the UI thread.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from yolo_studio.training import cluster
from yolo_studio.ui.help import ask_to_save
from yolo_studio.ui.layout import column, row
from yolo_studio.workers.job import JobThread

NODE_COLUMNS = ("Node", "CPUs", "GPUs", "GPU memory", "Free disk")


class ClustersDialog(QtWidgets.QDialog):
    tested = QtCore.Signal(dict)  # what Test connection found (or {"error": message})

    def __init__(self, parent=None):
        super().__init__(parent, windowTitle="Clusters")
        self.job = None
        self.names = QtWidgets.QListWidget()
        self.names.currentItemChanged.connect(self._switch)
        new = QtWidgets.QPushButton("New", clicked=self.new_cluster)
        remove = QtWidgets.QPushButton("Remove", clicked=self.remove_cluster)
        left = QtWidgets.QWidget()
        column(self.names, row(new, remove, stretch=True), on=left, margin=0)

        self.name = QtWidgets.QLineEdit(placeholderText="lab")
        self.address = QtWidgets.QLineEdit(placeholderText="http://HEAD:8265 (the head's Ray dashboard port)")
        self.limit = QtWidgets.QSpinBox(minimum=0, maximum=100_000, suffix=" MB", value=cluster.UPLOAD_LIMIT_MB,
                                        toolTip="A dataset up to this size goes with the job when no mapping "
                                                "covers it; a larger one must be on storage the nodes share")
        self.mappings = QtWidgets.QTableWidget(0, 2)
        self.mappings.setHorizontalHeaderLabels(["Folder on this computer", "Same folder on the nodes"])
        self.mappings.horizontalHeader().setStretchLastSection(True)
        self.mappings.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.Stretch)
        add_row = QtWidgets.QPushButton("Add mapping", clicked=lambda: self._add_mapping("", ""))
        drop_row = QtWidgets.QPushButton("Remove mapping", clicked=self._remove_mapping)
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Ray Jobs address", self.address)
        form.addRow("Upload datasets up to", self.limit)
        form.addRow("Shared storage", self.mappings)
        form.addRow("", row(add_row, drop_row, stretch=True))
        self.save_button = QtWidgets.QPushButton("Save", clicked=self.save)
        self.test_button = QtWidgets.QPushButton("Test connection", clicked=self.test_connection)
        self.result = QtWidgets.QLabel(wordWrap=True, textInteractionFlags=QtCore.Qt.TextSelectableByMouse)
        self.nodes = QtWidgets.QTableWidget(0, len(NODE_COLUMNS))
        self.nodes.setHorizontalHeaderLabels(NODE_COLUMNS)
        self.nodes.horizontalHeader().setStretchLastSection(True)
        self.nodes.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(form)
        right_layout.addWidget(row(self.save_button, self.test_button, stretch=True))
        right_layout.addWidget(self.result)
        right_layout.addWidget(self.nodes, 1)
        close = QtWidgets.QPushButton("Close", clicked=self.accept)
        body = QtWidgets.QSplitter()
        body.addWidget(left)
        body.addWidget(right)
        body.setSizes([160, 640])
        column(body, close, on=self)
        for button in self.findChildren(QtWidgets.QPushButton):  # Enter in a field saves, never adds a row
            button.setAutoDefault(False)
        self.save_button.setDefault(True)
        if not cluster.ray_available():
            self.result.setText(f"Training on a cluster needs Ray, not installed here: <code>{cluster.ENABLE}</code>")
            self.test_button.setEnabled(False)
        self.resize(860, 560)
        self._reload()

    def _reload(self, select: str | None = None) -> None:
        self.names.clear()
        for name in sorted(cluster.clusters()):
            self.names.addItem(name)
        matches = self.names.findItems(select or "", QtCore.Qt.MatchExactly) if select else []
        if matches:
            self.names.setCurrentItem(matches[0])
        elif self.names.count():
            self.names.setCurrentRow(0)
        else:
            self._clear_form()

    def _switch(self, current, previous) -> None:
        """Another cluster picked in the list: the form's typed edits are saved, dropped or kept first."""
        if current is None:
            return
        name = current.text()
        if not self._may_leave_form("before showing another"):
            # after the click has selected the picked row (a revert now would be undone by it)
            QtCore.QTimer.singleShot(0, lambda: self._mark_shown(previous.text() if previous else None))
            return
        listed = {self.names.item(i).text() for i in range(self.names.count())}
        if listed != set(cluster.clusters()):  # a new cluster was saved just now: list it too
            self._clear_form()  # saved or dropped: the reload's own switch has nothing to ask
            self._reload(name)
            return
        self._show(name)

    def _mark_shown(self, name: str | None) -> None:
        """The list marks the cluster the form shows (none for a new one's form), without switching."""
        matches = self.names.findItems(name, QtCore.Qt.MatchExactly) if name else []
        with QtCore.QSignalBlocker(self.names):
            if matches:
                self.names.setCurrentItem(matches[0])
            else:
                self.names.setCurrentItem(None)
                self.names.clearSelection()

    def _show(self, name: str) -> None:
        found = cluster.clusters().get(name)
        if found is None:
            return
        self.name.setText(found.name)
        self.address.setText(found.address)
        self.limit.setValue(int(found.upload_limit_mb))
        self.mappings.setRowCount(0)
        for local, remote in found.mappings:
            self._add_mapping(local, remote)
        self.nodes.setRowCount(0)
        self.result.clear()

    def new_cluster(self) -> None:
        if self._may_leave_form("before starting a new one"):
            self._clear_form()

    def _clear_form(self) -> None:
        self._mark_shown(None)
        self.name.clear()
        self.address.clear()
        self.limit.setValue(cluster.UPLOAD_LIMIT_MB)
        self.mappings.setRowCount(0)
        self.nodes.setRowCount(0)
        self.name.setFocus()

    def _add_mapping(self, local: str, remote: str) -> None:
        at = self.mappings.rowCount()
        self.mappings.insertRow(at)
        self.mappings.setItem(at, 0, QtWidgets.QTableWidgetItem(local))
        self.mappings.setItem(at, 1, QtWidgets.QTableWidgetItem(remote))

    def _remove_mapping(self) -> None:
        if self.mappings.currentRow() >= 0:
            self.mappings.removeRow(self.mappings.currentRow())

    def current(self) -> cluster.Cluster:
        """The cluster as the form shows it; ValueError says what is missing."""
        name, address = self.name.text().strip(), self.address.text().strip()
        if not name:
            raise ValueError("give the cluster a name (it is what Run on and --cluster show)")
        mappings = []
        for i in range(self.mappings.rowCount()):
            local, remote = (self.mappings.item(i, c).text().strip() if self.mappings.item(i, c) else ""
                             for c in (0, 1))
            if local and remote:
                mappings.append([local, remote])
            elif local or remote:
                raise ValueError(f"mapping {i + 1} needs both folders: this computer's and the nodes'")
        return cluster.Cluster(name, cluster.check_address(address), mappings, self.limit.value())

    def save(self) -> bool:
        try:
            found = self.current()
            cluster.save_cluster(found)
        except (ValueError, OSError) as exc:
            self.result.setText(f"<b style='color:#c0392b'>Not saved:</b> {exc}")
            return False
        self._reload(found.name)
        self.result.setText(f"Saved {found.name}: Run on in the Train tab offers it.")
        return True

    def unsaved(self) -> bool:
        """Whether the form differs from what Settings hold under its name (anything typed counts)."""
        try:
            shown = self.current()
        except ValueError:
            return bool(self.name.text().strip() or self.address.text().strip())
        return cluster.clusters().get(shown.name) != shown

    def _may_leave_form(self, when: str) -> bool:
        """Never drop a cluster the user typed in: with unsaved edits, ask to save them (False: Cancel,
        or a form that cannot be saved, whose message then shows)."""
        if not self.unsaved():
            return True
        return ask_to_save(self, "Clusters", f"Save the cluster '{self.name.text().strip() or 'without a name'}' "
                           f"{when}?", self._save_shown)

    def _save_shown(self) -> bool:
        """Save what the form shows, leaving the list as it is (the caller switches or closes)."""
        try:
            cluster.save_cluster(self.current())
        except (ValueError, OSError) as exc:
            self.result.setText(f"<b style='color:#c0392b'>Not saved:</b> {exc}")
            return False
        return True

    def done(self, code: int) -> None:  # closing never drops a cluster the user typed in
        if self._may_leave_form("before closing"):
            super().done(code)

    def remove_cluster(self) -> None:
        item = self.names.currentItem()
        if item is not None:
            cluster.remove_cluster(item.text())
            self._clear_form()  # what it showed is gone on purpose: nothing to save
            self._reload()

    def test_connection(self) -> None:
        try:
            found = self.current()
        except ValueError as exc:
            self.result.setText(f"<b style='color:#c0392b'>Cannot test:</b> {exc}")
            return

        def work(_job):
            return {**cluster.describe(found), "software": cluster.node_software(found)}

        self.test_button.setEnabled(False)
        self.result.setText(f"Asking {found.address}… (a one-line job runs there to read its Python)")
        self.job = JobThread(work, "test cluster", self)
        self.job.finished_with.connect(self._show_test)
        self.job.failed.connect(lambda message: self._show_test({"error": message}))
        self.job.start()

    def _show_test(self, found: dict) -> None:
        self.test_button.setEnabled(True)
        self.tested.emit(found)
        if "error" in found:
            self.result.setText(f"<b style='color:#c0392b'>Cannot reach the cluster:</b> {found['error']}")
            self.nodes.setRowCount(0)
            return
        software = found["software"]
        self.result.setText(
            f"<b style='color:#27ae60'>Connected:</b> Ray {found['ray']}, {len(found['nodes'])} node(s), "
            f"{found['cpus']} CPUs, {found['gpus_free']} of {found['gpus_total']} GPUs free. Jobs run Python "
            f"{software['python']}, PyTorch {software.get('torch') or 'missing'}, Ultralytics "
            f"{software.get('ultralytics') or 'missing'}" + (", CUDA" if software.get("cuda") else ""))
        self.nodes.setRowCount(len(found["nodes"]))
        for i, node in enumerate(found["nodes"]):
            memory = ", ".join(f"{m:g} GB" for m in node["gpu_memory_gb"]) or "-"
            for col, text in enumerate((node["host"] + (" (head)" if node["head"] else ""), str(node["cpus"]),
                                        str(node["gpus"]), memory, f"{node['disk_free_gb']:g} GB")):
                self.nodes.setItem(i, col, QtWidgets.QTableWidgetItem(text))
        self.nodes.resizeColumnsToContents()
