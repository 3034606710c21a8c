"""The Train tab's Run on: this computer or a cluster from Settings, the GPUs a cluster run takes, a
line saying what goes with the job, and submitting a run to the cluster."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from yolo_studio.training.run_folder import RunFolder
from yolo_studio.ui.layout import row
from yolo_studio.workers.training import RunSupervisor


class RunOnMixin:
    """Part of ``TrainDesignerTab`` (which owns ``status_message``, the buttons and ``_follow``)."""

    def _build_run_on(self, form: QtWidgets.QFormLayout) -> None:
        self.run_on = QtWidgets.QComboBox(toolTip="Where the run trains: this computer, or a Ray cluster from "
                                                  "Settings > Clusters")
        self.gpus = QtWidgets.QSpinBox(minimum=0, maximum=64, suffix=" GPUs", toolTip="GPUs per run on the cluster "
                                       "(0: its CPUs); two or more train under PyTorch's launcher on one node")
        clusters_button = QtWidgets.QToolButton(text="Clusters…", clicked=self.edit_clusters)
        self.run_on.currentIndexChanged.connect(self._run_on_changed)
        self.run_on_note = QtWidgets.QLabel(wordWrap=True)  # where the dataset comes from on the cluster
        self.run_on_note.setStyleSheet("color: gray")
        form.addRow("Run on", row(self.run_on, self.gpus, clusters_button, stretch=True))
        form.addRow("", self.run_on_note)
        self.fill_run_on()

    def fill_run_on(self) -> None:
        """This computer, each cluster in Settings, or the one command that enables clusters."""
        from yolo_studio.training import cluster

        chosen = self.run_on.currentData() if self.run_on.count() else None
        self.run_on.blockSignals(True)
        self.run_on.clear()
        self.run_on.addItem("This computer", None)
        if not cluster.ray_available():
            self.run_on.addItem("A Ray cluster (not installed)", "")
            item = self.run_on.model().item(1)
            item.setEnabled(False)
            item.setToolTip(f"Training on a cluster needs Ray: {cluster.ENABLE}")
        else:
            for name, found in sorted(cluster.clusters().items()):
                self.run_on.addItem(f"Cluster: {name}", name)
                self.run_on.setItemData(self.run_on.count() - 1, f"{found.address}; datasets up to "
                                        f"{found.upload_limit_mb} MB go with the job", QtCore.Qt.ToolTipRole)
        index = self.run_on.findData(chosen)
        self.run_on.setCurrentIndex(index if index > 0 else 0)
        self.run_on.blockSignals(False)
        self._run_on_changed()

    def run_on_target(self):
        """The cluster Start trains on, or None for this computer."""
        from yolo_studio.training import cluster

        name = self.run_on.currentData()
        return cluster.clusters().get(name) if name else None

    def _run_on_changed(self, *_args) -> None:
        target = self.run_on_target()
        self.gpus.setEnabled(target is not None)
        self.run_on_note.setVisible(target is not None)
        if target is not None:
            shared = f"; folders on shared storage: {len(target.mappings)} mapped" if target.mappings else ""
            self.run_on_note.setText(f"{target.address}: a dataset up to {target.upload_limit_mb} MB goes with the "
                                     f"job{shared}")

    def edit_clusters(self) -> None:
        from yolo_studio.ui.clusters import ClustersDialog

        dialog = ClustersDialog(self)
        dialog.finished.connect(lambda *_: self.fill_run_on())
        dialog.open()

    def _submit(self, run: RunFolder, target, gpus: int, resume: bool = False) -> None:
        """Send the run package to the cluster off the UI thread (it uploads), then follow the job."""
        from yolo_studio.training import cluster
        from yolo_studio.workers.job import JobThread

        self.status_message.emit(f"Submitting {run.path.name} to {target.name}…")
        self.start_button.setEnabled(False)
        self.resume_button.setEnabled(False)
        self.submission = JobThread(lambda _job: cluster.submit(run, target, gpus, resume), "submit", self)
        self.submission.finished_with.connect(lambda _job_id: self._follow(run, RunSupervisor.on_cluster(run, self)))
        self.submission.failed.connect(lambda message: (self.status_message.emit(f"Not started: {message}"),
                                                        self._update_buttons()))
        self.submission.start()
