#!/bin/sh
# install-python-path.sh: make `import childsim` work for Debian's /usr/bin/python3, offline.
#
# Usage: tools/install-python-path.sh BUILD_DIR      (e.g. build/release, after building)
#
# Writes childsim.pth into /usr/bin/python3's /usr/local site-packages directory
# (/usr/local/lib/python3.X/dist-packages on Debian), holding two absolute paths: this
# checkout's analysis/ (the pure-Python package) and BUILD_DIR/python (where CMake puts the
# compiled childsim._core). Python reads .pth files at start-up, so every /usr/bin/python3 —
# scripts, pytest, Jupyter kernels — then finds the package; nothing is copied, so a rebuild
# needs no reinstall. The package joins the two directories itself (pkgutil.extend_path in
# analysis/childsim/__init__.py).
#
# Idempotent: when childsim.pth already has this content it is left alone (not even
# rewritten). It also makes sure the Jupyter kernel "python3" runs /usr/bin/python3 (the
# notebook tests use it), installing the kernel spec into /usr/local only if it does not.
#
# Environment: CHILDSIM_SITE_DIR overrides the target directory (for tests).
# Needs write access to /usr/local (run as root, as the quick-start script does).
set -eu

PYTHON=/usr/bin/python3

if [ "$#" -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
if [ ! -d "$1" ]; then
  echo "error: build directory '$1' does not exist (build first: cmake --preset release && cmake --build build/release -j2)" >&2
  exit 1
fi

root=$(cd "$(dirname "$0")/.." && pwd -P)
build=$(cd "$1" && pwd -P)
if [ ! -d "$build/python/childsim" ]; then
  echo "warning: $build/python/childsim does not exist yet: childsim._core is not built" \
       "(reading files will work; childsim.run will not until it is)" >&2
fi

if [ -n "${CHILDSIM_SITE_DIR:-}" ]; then
  site_dir=$CHILDSIM_SITE_DIR
else
  # Debian's interpreter lists /usr/local/lib/python3.X/dist-packages first.
  site_dir=$("$PYTHON" -c 'import site; print(next(p for p in site.getsitepackages() if p.startswith("/usr/local/")))')
fi
pth="$site_dir/childsim.pth"
content=$(printf '%s\n%s' "$root/analysis" "$build/python")

if [ -f "$pth" ] && [ "$(cat "$pth")" = "$content" ]; then
  echo "$pth is up to date"
else
  mkdir -p "$site_dir"
  tmp="$pth.tmp.$$"
  printf '%s\n' "$content" > "$tmp"
  mv -f "$tmp" "$pth"
  echo "wrote $pth:"
  sed 's/^/  /' "$pth"
fi

# The Jupyter kernel "python3" must be this interpreter (python3-ipykernel ships one in
# /usr/share/jupyter/kernels; install one into /usr/local only if it is missing or other).
if [ -z "${CHILDSIM_SITE_DIR:-}" ]; then
  kernel=$("$PYTHON" -c '
try:
    from jupyter_client.kernelspec import KernelSpecManager
    print(KernelSpecManager().get_kernel_spec("python3").argv[0])
except Exception:
    print("")
' 2>/dev/null || true)
  if [ "$kernel" != "$PYTHON" ] && [ "$(readlink -f "$kernel" 2>/dev/null)" != "$(readlink -f "$PYTHON")" ]; then
    echo "installing the Jupyter kernel spec 'python3' for $PYTHON (was: ${kernel:-none})"
    "$PYTHON" -m ipykernel install --prefix /usr/local --name python3 >/dev/null
  fi
fi

# Check from a neutral directory that the package (and, if built, the module) imports.
if [ -z "${CHILDSIM_SITE_DIR:-}" ]; then
  (cd / && "$PYTHON" -c 'import childsim') || {
    echo "error: import childsim fails after writing $pth" >&2
    exit 1
  }
fi
