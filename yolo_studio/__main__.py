"""``python -m yolo_studio`` is the same as the ``yolo-studio`` command."""

import sys

from yolo_studio.cli import main

sys.exit(main())
