"""Annotation tools' exports, recognised and read into plain data (:mod:`.model`), before anything is written.

:func:`read_export` takes what the user picked (a file or a folder) and returns an :class:`Export`, or raises
:class:`NotAnExport` saying what the pick looks like instead. YOLO datasets (a data YAML, ``images/<split>``
folders, ``train/<class>`` folders) are not exports: the project registers those as they are.
"""

from yolo_studio.core.data.exports.model import FORMATS, SKIP_REASONS, Export, Item, NotAnExport, Obj  # noqa: F401
from yolo_studio.core.data.exports.recognise import read_export  # noqa: F401
