"""_native: finding the compiled module ``childsim._core``, only when it is needed.

``_core`` is built by CMake into ``<build>/python/childsim/`` (bindings/CMakeLists.txt), not
next to this file. The package's ``__path__`` covers every ``childsim`` directory on
``sys.path`` (``pkgutil.extend_path`` in ``__init__.py``), so with both ``analysis/`` and
``<build>/python`` on ``sys.path`` (tools/install-python-path.sh writes a ``.pth`` file that
does this) ``import childsim._core`` finds it. Reading and analysing files never needs it.
"""

import importlib

__all__ = ["core"]

_HINT = (
    "the compiled module childsim._core was not found. Build it (cmake --preset release && "
    "cmake --build build/release -j2) and put BUILD_DIR/python on sys.path, e.g. with "
    "tools/install-python-path.sh build/release (see docs/python.md). Reading and analysing "
    "output files (open_run, summaries, plots) works without it."
)


def core():
    """The compiled module ``childsim._core``; ImportError with instructions if not built."""
    try:
        return importlib.import_module("childsim._core")
    except ImportError as error:
        raise ImportError(f"{_HINT} ({error})") from error


def have_core():
    """True when ``childsim._core`` can be imported."""
    try:
        core()
    except ImportError:
        return False
    return True
