"""The Extract dialog: which detector, the hydra's and first head's names, and where to split.

The split choices are read from the chosen detector in a worker (loading a checkpoint imports
torch): every possible split with the head's share of the FLOPs and what 6 and 12 heads cost, so
the trade-off between sharing more and training more per head is visible before extracting.
"""

from __future__ import annotations

from PySide6 import QtWidgets

from yolo_studio.workers.job import JobThread


class ExtractDialog(QtWidgets.QDialog):
    def __init__(self, sources: list, parent=None):
        """``sources``: (label, weights path) pairs."""
        super().__init__(parent)
        self.setWindowTitle("Extract a hydra model")
        self.setMinimumWidth(640)
        self.sources = sources
        self.jobs: list = []
        self.options: dict = {}  # split -> its option (split_options), once read
        self.detector = QtWidgets.QComboBox()
        self.detector.addItems([label for label, _ in sources])
        self.name = QtWidgets.QLineEdit("hydra")
        self.head = QtWidgets.QLineEdit("base")
        self.split = QtWidgets.QComboBox()
        self.split.currentIndexChanged.connect(self._show_cost)
        self.cost = QtWidgets.QLabel(wordWrap=True)
        self.cost.setMinimumHeight(3 * self.fontMetrics().lineSpacing())
        form = QtWidgets.QFormLayout(self)
        form.addRow("Detector", self.detector)
        form.addRow("Hydra name", self.name)
        form.addRow("First head's name", self.head)
        form.addRow("Split at layer", self.split)
        form.addRow("", self.cost)
        note = QtWidgets.QLabel("The backbone (the layers before the split) runs once per image and stays frozen "
                                "while heads train; each head runs the rest. A later split shares more, so heads "
                                "are cheaper, and each head trains fewer layers.", wordWrap=True)
        note.setEnabled(False)  # greyed: an explanation, not a value
        form.addRow("", note)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Ok | QtWidgets.QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.detector.currentIndexChanged.connect(self._load_splits)
        self._load_splits()

    def weights(self) -> str:
        return self.sources[self.detector.currentIndex()][1]

    def _load_splits(self) -> None:
        from yolo_studio.hydra.model import split_options

        weights = self.weights()
        self.options = {}
        self.split.clear()
        self.split.addItem("default: the deepest split that keeps each head's bottom-up path", None)
        self.cost.setText("Reading the detector's layers…")
        job = JobThread(lambda _job: split_options(weights), "split options", self)
        job.finished_with.connect(lambda options: self._show_splits(weights, options))
        job.failed.connect(lambda message: self.cost.setText(f"Cannot read the layers: {message}"))
        self.jobs.append(job)
        job.start()

    def _show_splits(self, weights: str, options: list) -> None:
        from yolo_studio.hydra.model import split_mark

        if weights != self.weights():  # the user chose another detector meanwhile
            return
        self.options = {option["split"]: option for option in options}
        self.split.clear()
        for option in options:
            self.split.addItem(f"{option['split']}: after {option['after']}{split_mark(option)}", option["split"])
            if option["default"]:
                self.split.setCurrentIndex(self.split.count() - 1)
        self._show_cost()

    def _show_cost(self) -> None:
        option = self.options.get(self.split.currentData())
        if option is not None:
            self.cost.setText(f"A head is <b>{option['head_share']:.0%}</b> of the model's FLOPs (at 640 px): 6 heads "
                              f"cost about <b>{option['heads_6']:.1f}x</b> one model, 12 heads about "
                              f"<b>{option['heads_12']:.1f}x</b> (6 and 12 separate models: 6x and 12x).")

    def chosen_split(self) -> int | None:
        return self.split.currentData()

    def values(self) -> tuple:
        """(weights, hydra name, head name, split or None for the default)."""
        return self.weights(), self.name.text().strip(), self.head.text().strip(), self.chosen_split()

    def done(self, result: int) -> None:  # QDialog.done: threads must end before the dialog goes
        for job in self.jobs:
            job.wait()
        super().done(result)
