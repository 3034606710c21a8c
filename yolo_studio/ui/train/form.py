"""The training arguments form: one widget per argument, grouped, built from Ultralytics' defaults."""

from __future__ import annotations

import yaml
from PySide6 import QtCore, QtWidgets

from yolo_studio.training import train_config

RANGES = {"int": (-1, 1_000_000), "float": (-1_000.0, 1_000_000.0), "fraction": (0.0, 1.0)}


class ArgWidget(QtWidgets.QWidget):
    """An editor for one argument; ``value()`` returns it typed as Ultralytics expects."""

    changed = QtCore.Signal()

    def __init__(self, arg: train_config.TrainArg, parent=None):
        super().__init__(parent)
        self.arg = arg
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        kind, default = arg.kind, arg.default
        if kind == "bool":
            self.editor = QtWidgets.QCheckBox()
            self.editor.toggled.connect(self.changed)
        elif kind == "int":
            self.editor = QtWidgets.QSpinBox()
            self.editor.setRange(*RANGES["int"])
            self.editor.valueChanged.connect(self.changed)
        elif kind in ("float", "fraction"):
            self.editor = QtWidgets.QDoubleSpinBox(decimals=5, singleStep=0.01 if kind == "fraction" else 0.1)
            self.editor.setRange(*RANGES[kind])
            self.editor.valueChanged.connect(self.changed)
        elif kind == "choice":
            self.editor = QtWidgets.QComboBox(editable=True)
            self.editor.addItems(train_config.CHOICES[arg.name])
            self.editor.currentTextChanged.connect(self.changed)
        else:
            self.editor = QtWidgets.QLineEdit(placeholderText="default" if default is None else "")
            self.editor.textChanged.connect(self.changed)
        self.editor.setToolTip(f"{arg.name} ({arg.types}): {arg.help}\nDefault: {default}")
        layout.addWidget(self.editor, 1)
        self.reset = QtWidgets.QToolButton(text="↺", toolTip=f"Back to the default ({default})", autoRaise=True)
        self.reset.clicked.connect(lambda: self.set_value(self.arg.default))
        layout.addWidget(self.reset)
        self.set_value(default)

    def set_value(self, value) -> None:
        e, kind = self.editor, self.arg.kind
        if kind == "bool":
            e.setChecked(bool(value))
        elif kind == "int" and isinstance(value, int):
            e.setValue(value)
        elif kind in ("float", "fraction") and isinstance(value, (int, float)):
            e.setValue(float(value))
        elif kind == "choice":
            e.setCurrentText("" if value is None else str(value))
        else:
            e.setText("" if value is None else _text(value))

    def value(self):
        e, kind = self.editor, self.arg.kind
        if kind == "bool":
            return e.isChecked()
        if kind == "int":
            return e.value()
        if kind in ("float", "fraction"):
            value = round(e.value(), 6)
            return int(value) if isinstance(self.arg.default, int) and value == int(value) else value
        if kind == "choice":
            return e.currentText()
        return train_config.parse_value(e.text())

    def is_default(self) -> bool:
        value, default = self.value(), self.arg.default
        return value == default and type(value) is type(default)


def _text(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip() \
        if isinstance(value, list) else str(value)


class ArgsFormWidget(QtWidgets.QWidget):
    """Every argument of the mode in group pages; ``overrides()`` are the non-default values."""

    changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.widgets: dict = {}
        self.values: dict = {}  # overrides kept across mode switches (User hides, never drops)
        self.developer = False
        self.filter = QtWidgets.QLineEdit(placeholderText="Filter arguments (name or help)…", clearButtonEnabled=True)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.pages = QtWidgets.QToolBox()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.pages, 1)
        self.rebuild()

    def set_developer(self, developer: bool) -> None:
        self._remember()
        self.developer = developer
        self.rebuild()

    def rebuild(self) -> None:
        while self.pages.count():
            page = self.pages.widget(0)
            self.pages.removeItem(0)
            page.deleteLater()
        self.widgets = {}
        for group, args in train_config.form_args(self.developer).items():
            page = QtWidgets.QWidget()
            form = QtWidgets.QFormLayout(page)
            form.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
            for arg in args:
                widget = ArgWidget(arg)
                if arg.name in self.values:
                    widget.set_value(self.values[arg.name])
                widget.changed.connect(self._on_arg_changed)
                label = QtWidgets.QLabel(arg.name, toolTip=arg.help)
                form.addRow(label, widget)
                self.widgets[arg.name] = widget
            scroll = QtWidgets.QScrollArea(widgetResizable=True, frameShape=QtWidgets.QFrame.NoFrame)
            scroll.setWidget(page)
            self.pages.addItem(scroll, f"{group.replace('&', '&&')} ({len(args)})")
        self._on_filter_text_changed(self.filter.text())

    def _remember(self) -> None:
        for name, widget in self.widgets.items():
            if widget.is_default():
                self.values.pop(name, None)
            else:
                self.values[name] = widget.value()

    def overrides(self) -> dict:
        self._remember()
        return dict(self.values)

    def set_overrides(self, values: dict) -> None:
        self.values = dict(values)
        for name, widget in self.widgets.items():
            widget.blockSignals(True)
            widget.set_value(values.get(name, widget.arg.default))
            widget.blockSignals(False)
        self.changed.emit()

    def _on_arg_changed(self) -> None:
        self._remember()
        self.changed.emit()

    def _on_filter_text_changed(self, text: str) -> None:
        text = text.strip().lower()
        for index in range(self.pages.count()):
            form = self.pages.widget(index).widget().layout()
            shown = 0
            for row in range(form.rowCount()):
                label = form.itemAt(row, QtWidgets.QFormLayout.LabelRole).widget()
                field = form.itemAt(row, QtWidgets.QFormLayout.FieldRole).widget()
                visible = not text or text in label.text().lower() or text in field.arg.help.lower()
                form.setRowVisible(row, visible)
                shown += visible
            self.pages.setItemEnabled(index, shown > 0)
