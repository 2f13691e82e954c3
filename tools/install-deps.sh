#!/usr/bin/env bash
# install-deps: install the Debian 12 packages childsim needs, and only those missing.
# Idempotent: when everything is present it makes no apt call at all.
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config git
  # C++ libraries
  libeigen3-dev libboost-random-dev librandom123-dev libhdf5-dev zlib1g-dev catch2 pybind11-dev python3-dev
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libopenmpi-dev openmpi-bin
  # Python (Debian's /usr/bin/python3)
  python3-numpy python3-h5py python3-h5netcdf python3-xarray python3-pandas python3-matplotlib
  python3-pytest python3-pytest-xdist python3-nbclient python3-ipykernel python3-scipy python3-yaml
  python3-dask  # lazy reading: childsim.open_run(path, chunks=...)
  python3-mpi4py  # childsim-mpi sweep: the Python sweep joins the MPI job
  # a Chinese font for the street names in the briefing's figures (matplotlib) and pages
  fonts-wqy-microhei
)
if [[ "${CHILDSIM_SKIP_FUZZ:-0}" != 1 ]]; then
  packages+=(clang libclang-rt-dev)  # the libFuzzer targets of tools/fuzz.sh (run by tools/test.sh)
fi
if [[ "${CHILDSIM_WITH_BROWSER:-1}" == 1 ]]; then
  packages+=(chromium)  # headless tests of the briefing page
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages and not root; run as root (or: sudo $0)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
