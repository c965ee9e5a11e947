#!/usr/bin/env bash
# Install the build dependencies (Debian 12 packages) and build tclaims into ./build.
# Run as root (or with sudo) on a fresh machine: bash scripts/setup.sh
# (PostgreSQL and PostGIS are for the tests of PG: sources: scripts/pg.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
    build-essential meson ninja-build pkg-config \
    libgdal-dev libgeos-dev libproj-dev proj-data libcmocka-dev libssl-dev libxxhash-dev \
    python3 valgrind postgresql-15 postgresql-15-postgis-3 >/dev/null
BUILD=${BUILD:-build}
if [ -d "$BUILD" ]; then
    meson setup --reconfigure "$BUILD" -Dwerror=true
else
    meson setup "$BUILD" -Dwerror=true
fi
ninja -C "$BUILD"
