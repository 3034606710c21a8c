"""The main window's Edit and View menus: the Model Designer's edits (undo, redo, delete, move) and
views of the canvas (framing, the overview map, comparing, weights, folding)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui


def add_model_menus(window, tab) -> tuple:
    """Add the Edit and View menus of Model Designer ``tab`` to ``window``'s menu bar; returns the undo,
    redo (``window.undo_in_view``'s: the tab in view's) and frame-all actions (the toolbar shows them too)."""
    edit_menu = window.menuBar().addMenu("&Edit")
    undo, redo = window.undo_in_view.undo, window.undo_in_view.redo  # they act on the tab in view
    edit_menu.addAction(undo)
    edit_menu.addAction(redo)
    edit_menu.addSeparator()
    delete = edit_menu.addAction("&Delete layers", lambda: tab.delete_rows(tab.canvas.selected_rows()))
    delete.setShortcuts([QtGui.QKeySequence.Delete, QtGui.QKeySequence("Backspace")])
    delete.setShortcutContext(QtCore.Qt.WidgetWithChildrenShortcut)
    tab.canvas.widget.addAction(delete)
    up = edit_menu.addAction("Move layer &up", lambda: window.move_selected(-1), QtGui.QKeySequence("Alt+Up"))
    down = edit_menu.addAction("Move layer d&own", lambda: window.move_selected(1),
                               QtGui.QKeySequence("Alt+Down"))
    for action in (up, down):
        tab.canvas.widget.addAction(action)
    boundary = edit_menu.addAction("Start the &head at the selected layer",
                                   lambda: tab.selected and tab.set_head_start(tab.selected[0]))
    boundary.setToolTip("Move the backbone/head boundary")

    view_menu = window.menuBar().addMenu("&View")
    view_menu.addAction("&Devices…", window.devices_dialog)
    frame = view_menu.addAction("&Frame all", tab.canvas.frame_all, QtGui.QKeySequence("F"))
    frame.setShortcutContext(QtCore.Qt.WidgetWithChildrenShortcut)
    tab.canvas.widget.addAction(frame)
    overview = view_menu.addAction("&Overview map")
    overview.setCheckable(True)
    overview.setChecked(True)
    overview.toggled.connect(tab.canvas.overview.set_enabled_by_user)
    overview.setToolTip("A map of the whole model in the canvas's corner, while part of it is out of view")
    view_menu.addSeparator()
    view_menu.addAction("&Compare with…", window.compare_dialog).setToolTip(
        "Mark what differs from another model (a YAML, a checkpoint), matched by structure")
    runs_menu = view_menu.addMenu("Compare with a &run")
    runs_menu.aboutToShow.connect(lambda: _fill_runs_menu(runs_menu, window))
    stop_compare = view_menu.addAction("Stop comparing", lambda: tab.compare_with(None))
    stop_compare.setEnabled(False)
    tab.comparison_changed.connect(lambda: stop_compare.setEnabled(tab.comparison is not None))
    view_menu.addAction("Show &weights from a checkpoint…", window.show_weights_dialog).setToolTip(
        "Colour each layer by what it would start from in a checkpoint: all, some or none of its tensors")
    hide = view_menu.addAction("Hide weights", lambda: tab.show_weights(None))
    hide.setEnabled(False)
    tab.weights_changed.connect(lambda: hide.setEnabled(tab.weights is not None))
    view_menu.addSeparator()
    for name in ("backbone", "head"):
        fold = view_menu.addAction(f"Fold the {name}", lambda name=name: tab.toggle_section(name))
        fold.setCheckable(True)
        fold.setToolTip(f"Show the {name} as one box and the layers other sections read "
                        "(or click its caption on the canvas)")
        tab.sections_folded.connect(lambda fold=fold, name=name: fold.setChecked(name in tab.folded))

    return undo, redo, frame


def _fill_runs_menu(menu, window) -> None:
    """The project's runs of the studio, newest first; picking one compares the model with what it trained."""
    from yolo_studio.core.errors import StudioError
    from yolo_studio.training.run_store import list_runs

    menu.clear()
    runs = [r for r in list_runs(window.project.runs_dir) if r.studio]
    for run in runs:  # newest first
        def compare(_checked=False, path=run.path):
            try:
                window.model_tab.compare_with(path)
            except StudioError as exc:
                window.statusBar().showMessage(f"Cannot compare: {exc}", 8000)
        menu.addAction(f"{run.name}  ({run.model})", compare)
    if not runs:
        menu.addAction("No runs in this project yet").setEnabled(False)
