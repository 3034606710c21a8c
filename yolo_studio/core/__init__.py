"""The pure core of YOLO Studio: no Qt here. torch and Ultralytics are imported lazily, only by
the functions that build models (``inspection``, ``ultralytics_hook``)."""
