"""The register of open documents: what every tab asks about unsaved work (no Qt)."""


from yolo_studio.core.project.open_documents import DocumentRegister, describe
from yolo_studio.training.preflight import Plan, preflight


class Editor:
    """An editor as the register sees one: a file, a text, a modified flag."""

    def __init__(self, kind, where, path, text="", modified=False):
        self.kind, self.where, self.path, self._text, self.modified = kind, where, path, text, modified
        self.saved = None

    def file(self):
        return self.path

    def is_modified(self):
        return self.modified

    def text(self):
        return self._text

    def save(self):
        self.saved, self.modified = self._text, False
        return True


def test_the_register_finds_open_documents_by_resolved_path_and_lists_unsaved_ones(tmp_path):
    register = DocumentRegister()
    model = register.add(Editor("model", "the Model tab", tmp_path / "m.yaml"))
    block = register.add(Editor("block", "the Modules tab", tmp_path / "blocks" / "a.py", modified=True))
    untitled = register.add(Editor("model", "the Model tab", None, modified=True))
    assert register.open_for(tmp_path / "sub" / ".." / "m.yaml") is model
    assert register.open_for(tmp_path / "other.yaml") is None and register.open_for(None) is None
    assert register.unsaved() == [block, untitled]
    assert register.unsaved_edits_to(tmp_path / "m.yaml") is None
    model.modified = True
    assert register.unsaved_edits_to(tmp_path / "m.yaml") is model
    assert describe(block) == "a.py (block, in the Modules tab)" and describe(untitled) == "untitled model (model, in the Model tab)"
    register.remove(block)
    assert block not in register.documents()


def test_preflight_refuses_a_model_with_unsaved_edits_and_offers_save_or_the_saved_file(tmp_path, resources):
    plan = Plan(resources / "models" / "yolo11n-demo.yaml", tmp_path / "none.yaml", tmp_path / "runs", "exp", {},
                unsaved_in="the Model tab")
    check = next(c for c in preflight(plan).checks if "unsaved edits" in c.message)
    assert check.severity == "error" and "the Model tab" in check.message
    assert [kind for kind, _value in check.fixes] == ["save_model", "train_saved"]
    plan.train_saved = True
    check = next(c for c in preflight(plan).checks if "unsaved edits" in c.message)
    assert check.severity == "warning" and "training the saved file" in check.message
    assert check.fixes == ()
