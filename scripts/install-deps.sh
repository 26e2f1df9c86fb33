#!/usr/bin/env bash
# Installs what GradFlow needs to build and test, and nothing when it is all present.
#   C libraries (Debian):  SUNDIALS (CVODE), OpenBLAS (pthread build) + LAPACK headers, serial HDF5, whose static
#                          archives gradflow links (Package.swift); gnuplot for `gradflow plot`
#   Optional for tests:    h5py (PyPI), used only as an independent reader of trajectory files
# Usage: scripts/install-deps.sh            (idempotent; uses sudo when not root)
set -euo pipefail

packages=(libsundials-dev libopenblas-dev libopenblas-pthread-dev liblapacke-dev libhdf5-dev pkg-config gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: system libraries present"
fi

# h5py is an optional, independent reader used by the tests; never by the tool itself.
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c 'import h5py, numpy' >/dev/null 2>&1; then
    echo "install-deps: installing h5py for the reader tests"
    python3 -m pip install --quiet --disable-pip-version-check h5py numpy \
      || echo "install-deps: h5py not installed; the h5py reader test will be skipped"
  fi
fi
