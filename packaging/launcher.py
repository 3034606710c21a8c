"""Entry point of the bundled studio (PyInstaller): ``yolo-studio [COMMAND ...]``.

The studio starts helper processes as ``sys.executable -m MODULE ...`` and ``sys.executable -c
CODE`` (training runs, block checks). In a bundle ``sys.executable`` is this program, so those two
forms are handled here before the normal command line.
"""

import multiprocessing
import runpy
import sys


def main() -> int:
    multiprocessing.freeze_support()  # required for frozen programs that start processes (Windows)
    if len(sys.argv) > 2 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    if len(sys.argv) > 2 and sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        return 0
    from yolo_studio.cli import main as studio

    return studio(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
