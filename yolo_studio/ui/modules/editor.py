"""CodeEditor: a Python editor on Scintilla (pyside6-scintilla + the lexilla Python lexer).

A thin widget of our own over the raw Scintilla API: highlighting, line numbers, folding,
current-line highlight, auto-indent, brace matching, undo/redo (Scintilla's), error markers in
the margin with the message as an annotation under the line, and completion of names.
Lines are 1-based in this widget's API, as in error messages.
"""

from __future__ import annotations

import keyword

from PySide6 import QtCore, QtGui
from pyside6_scintilla import ScintillaEdit

EDITING_KEYS = (QtGui.QKeySequence.Undo, QtGui.QKeySequence.Redo, QtGui.QKeySequence.Copy,
                QtGui.QKeySequence.Cut, QtGui.QKeySequence.Paste, QtGui.QKeySequence.SelectAll,
                QtGui.QKeySequence.Delete)

# Scintilla constants used here (from Scintilla.iface).
SC_MARGIN_SYMBOL, SC_MARGIN_NUMBER = 0, 1
SC_MASK_FOLDERS = 0xFE000000
SC_MARK_CIRCLE, SC_MARK_BACKGROUND = 0, 22
SC_MARKNUM_FOLDER_SYMBOLS = (25, 26, 27, 28, 29, 30, 31)
SC_MARK_BOXPLUS, SC_MARK_BOXMINUS, SC_MARK_VLINE, SC_MARK_LCORNER, SC_MARK_TCORNER = 12, 14, 9, 10, 21
ANNOTATION_BOXED = 2
STYLE_DEFAULT, STYLE_LINENUMBER, STYLE_BRACELIGHT, STYLE_BRACEBAD = 32, 33, 34, 35
ERROR_MARKER, ERROR_LINE_MARKER, WARNING_MARKER, WARNING_LINE_MARKER = 0, 1, 2, 3
ERROR_ANNOTATION_STYLE, WARNING_ANNOTATION_STYLE = 40, 41
MATCH_CASE = 0x4

# Python lexer styles -> colours (0xRRGGBB).
PALETTE = {0: 0xD4D4D4, 1: 0x6A9955, 2: 0xB5CEA8, 3: 0xCE9178, 4: 0xCE9178, 5: 0x569CD6, 6: 0xCE9178,
           7: 0xCE9178, 8: 0x4EC9B0, 9: 0xDCDCAA, 10: 0xD4D4D4, 11: 0xD4D4D4, 12: 0x6A9955, 13: 0xF44747,
           14: 0x4FC1FF, 15: 0xC586C0}
BACKGROUND, CURRENT_LINE, MARGIN = 0x1E1F22, 0x2A2C31, 0x25272B
BUILTINS = "self super print len range isinstance list dict tuple int float str bool None True False"


def bgr(rgb: int) -> int:
    """Scintilla takes colours as 0xBBGGRR."""
    return ((rgb & 0xFF) << 16) | (rgb & 0xFF00) | ((rgb >> 16) & 0xFF)


class CodeEditor(ScintillaEdit):
    """The block editor. ``errors()`` lists the (line, message) pairs currently marked."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._errors: list = []
        self._completions: list = []
        self._setup_lexer()
        self._setup_margins()
        self.setTabWidth(4)
        self.setUseTabs(False)
        self.setIndent(4)
        self.setCaretLineVisible(True)
        self.setCaretLineBack(bgr(CURRENT_LINE))
        self.setCaretFore(bgr(0xFFFFFF))
        self.setSelBack(True, bgr(0x264F78))
        self.annotationSetVisible(ANNOTATION_BOXED)
        self.styleSetFore(ERROR_ANNOTATION_STYLE, bgr(0xFFB4B4))
        self.styleSetBack(ERROR_ANNOTATION_STYLE, bgr(0x4A1F1F))
        self.styleSetFore(WARNING_ANNOTATION_STYLE, bgr(0xF0D58C))
        self.styleSetBack(WARNING_ANNOTATION_STYLE, bgr(0x3D3418))
        self.charAdded.connect(self._on_char_added)
        self.updateUi.connect(self._on_update_ui)

    def _setup_lexer(self) -> None:
        from lexilla import Language, create_lexer
        from lexilla.pyside6_scintilla import set_lexer

        set_lexer(self, create_lexer(Language.PYTHON))
        self.styleSetFont(STYLE_DEFAULT, "DejaVu Sans Mono")
        self.styleSetSize(STYLE_DEFAULT, 10)
        self.styleSetFore(STYLE_DEFAULT, bgr(PALETTE[0]))
        self.styleSetBack(STYLE_DEFAULT, bgr(BACKGROUND))
        self.styleClearAll()
        for style, colour in PALETTE.items():
            self.styleSetFore(style, bgr(colour))
        self.styleSetBold(5, True)
        self.setKeyWords(0, " ".join(keyword.kwlist))
        self.setKeyWords(1, BUILTINS + " nn torch")
        self.styleSetFore(STYLE_BRACELIGHT, bgr(0xFFD700))
        self.styleSetBold(STYLE_BRACELIGHT, True)
        self.styleSetFore(STYLE_BRACEBAD, bgr(0xF44747))
        self.setProperty("fold", "1")
        self.setProperty("fold.compact", "0")

    def _setup_margins(self) -> None:
        self.styleSetFore(STYLE_LINENUMBER, bgr(0x858585))
        self.styleSetBack(STYLE_LINENUMBER, bgr(MARGIN))
        self.setMarginTypeN(0, SC_MARGIN_NUMBER)
        self.setMarginWidthN(0, 44)
        self.setMarginTypeN(1, SC_MARGIN_SYMBOL)  # error markers
        self.setMarginWidthN(1, 14)
        self.setMarginMaskN(1, (1 << ERROR_MARKER) | (1 << WARNING_MARKER))
        for marker, line_marker, colour, tint in ((ERROR_MARKER, ERROR_LINE_MARKER, 0xF44747, 0x4A1F1F),
                                                  (WARNING_MARKER, WARNING_LINE_MARKER, 0xE0B040, 0x3D3418)):
            self.markerDefine(marker, SC_MARK_CIRCLE)
            self.markerSetFore(marker, bgr(colour))
            self.markerSetBack(marker, bgr(colour))
            self.markerDefine(line_marker, SC_MARK_BACKGROUND)
            self.markerSetBack(line_marker, bgr(tint))
        self.setMarginTypeN(2, SC_MARGIN_SYMBOL)  # folding
        self.setMarginMaskN(2, SC_MASK_FOLDERS)
        self.setMarginSensitiveN(2, True)
        self.setMarginWidthN(2, 14)
        self.setFoldMarginColour(True, bgr(MARGIN))
        self.setFoldMarginHiColour(True, bgr(MARGIN))
        symbols = (SC_MARK_BOXMINUS, SC_MARK_BOXPLUS, SC_MARK_VLINE, SC_MARK_LCORNER, SC_MARK_BOXPLUS,
                   SC_MARK_BOXMINUS, SC_MARK_TCORNER)
        for number, symbol in zip((31, 30, 29, 28, 25, 26, 27), symbols):
            self.markerDefine(number, symbol)
            self.markerSetFore(number, bgr(MARGIN))
            self.markerSetBack(number, bgr(0x858585))
        self.marginClicked.connect(self._on_margin_clicked)

    # ------------------------------------------------------------------ text

    def text(self) -> str:
        return bytes(self.getText(self.textLength() + 1)).rstrip(b"\0").decode("utf-8")

    def set_text(self, text: str) -> None:
        """Replace the whole text, as a fresh document (nothing to undo, unmodified)."""
        self.setText(text)
        self.emptyUndoBuffer()
        self.setSavePoint()
        self.clear_errors()

    def set_completions(self, names: list) -> None:
        """Names offered while typing (torch, torch.nn and catalog blocks)."""
        self._completions = sorted(set(names), key=str.lower)

    # ------------------------------------------------------------------ find and replace

    def find_next(self, needle: str, match_case: bool = False) -> bool:
        """Select the next occurrence after the caret, wrapping around; False if there is none."""
        if not needle:
            return False
        flags = MATCH_CASE if match_case else 0
        start = self.selectionEnd()
        found, end = self.findText(flags, needle, start, self.textLength())
        if found < 0:
            found, end = self.findText(flags, needle, 0, start)
        if found < 0:
            return False
        self.setSel(found, end)
        self.scrollCaret()
        return True

    def replace_all(self, needle: str, replacement: str, match_case: bool = False) -> int:
        """Replace every occurrence as one undo step; returns how many."""
        if not needle:
            return 0
        flags = MATCH_CASE if match_case else 0
        count, pos = 0, 0
        self.beginUndoAction()
        try:
            while True:
                found, end = self.findText(flags, needle, pos, self.textLength())
                if found < 0:
                    break
                self.setTargetRange(found, end)
                self.replaceTarget(-1, replacement)
                pos = found + len(replacement.encode("utf-8"))
                count += 1
        finally:
            self.endUndoAction()
        return count

    # ------------------------------------------------------------------ errors

    def mark_error(self, line: int, message: str, warning: bool = False) -> None:
        """A red dot in the margin (amber for a warning), the line tinted, and the message boxed
        under it (line is 1-based)."""
        index = max(line - 1, 0)
        self.markerAdd(index, WARNING_MARKER if warning else ERROR_MARKER)
        self.markerAdd(index, WARNING_LINE_MARKER if warning else ERROR_LINE_MARKER)
        self.annotationSetText(index, message)
        self.annotationSetStyle(index, WARNING_ANNOTATION_STYLE if warning else ERROR_ANNOTATION_STYLE)
        self._errors.append((line, message))

    def clear_errors(self) -> None:
        for marker in (ERROR_MARKER, ERROR_LINE_MARKER, WARNING_MARKER, WARNING_LINE_MARKER):
            self.markerDeleteAll(marker)
        self.annotationClearAll()
        self._errors = []

    def errors(self) -> list:
        return list(self._errors)

    def marked_lines(self, warnings: bool = True) -> list:
        """1-based lines carrying an error (or warning) marker, read back from Scintilla."""
        mask = (1 << ERROR_MARKER) | ((1 << WARNING_MARKER) if warnings else 0)
        lines, line = [], self.markerNext(0, mask)
        while line >= 0:
            lines.append(line + 1)
            line = self.markerNext(line + 1, mask)
        return lines

    # ------------------------------------------------------------------ typing helpers

    def _on_char_added(self, char: int) -> None:
        if char == ord("\n"):  # keep the indentation, one level more after a colon
            line = self.lineFromPosition(self.currentPos())
            if line == 0:
                return
            previous = bytes(self.getLine(line - 1)).decode("utf-8", "replace").rstrip()
            indent = self.lineIndentation(line - 1) + (4 if previous.endswith(":") else 0)
            self.setLineIndentation(line, indent)
            self.gotoPos(self.positionFromLine(line) + indent)
        elif chr(char).isidentifier() and self._completions:
            self._complete()

    def _complete(self) -> None:
        pos = self.currentPos()
        start = self.wordStartPosition(pos, True)
        word = bytes(self.textRange(start, pos)).decode("utf-8", "replace")
        if len(word) < 2:
            return
        matches = [n for n in self._completions if n.lower().startswith(word.lower())]
        if matches:
            self.autoCSetIgnoreCase(True)
            self.autoCShow(len(word), " ".join(matches[:50]))

    def _on_update_ui(self, _updated) -> None:
        pos = self.currentPos()
        for candidate in (pos, pos - 1):
            if candidate >= 0 and chr(self.charAt(candidate) & 0xFF) in "()[]{}":
                match = self.braceMatch(candidate, 0)
                if match >= 0:
                    self.braceHighlight(candidate, match)
                else:
                    self.braceBadLight(candidate)
                return
        self.braceHighlight(-1, -1)

    def _on_margin_clicked(self, position, _modifiers, margin) -> None:
        if margin == 2:
            self.toggleFold(self.lineFromPosition(position))

    def event(self, event):
        """Claim editing keys: Ctrl+Z in the editor undoes typing, not the window's model edits."""
        if event.type() == QtCore.QEvent.ShortcutOverride and any(
                event.matches(key) for key in EDITING_KEYS):
            event.accept()
            return True
        return super().event(event)

    def sizeHint(self):
        return QtCore.QSize(700, 500)
