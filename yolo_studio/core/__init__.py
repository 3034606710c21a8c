"""The pure core of YOLO Studio: no Qt here, cut by domain like Ultralytics' own package.

- ``model/``: the model document, validation, catalog, inspection, comparisons, checkpoints;
- ``blocks/``: custom block files (found, checked, templated);
- ``data/``: datasets;
- ``project/``: projects, recovery, trust, open documents;
- the files here are shared by all of them: errors, atomic writes, text files, the studio's
  folders (``home``), the offline environment, processes, devices, the desktop entry.

torch and Ultralytics are imported lazily, only by the functions that build models; their
internals are reached through ``yolo_studio.compat``.
"""
