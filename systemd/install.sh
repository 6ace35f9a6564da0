#!/bin/sh
# Install mycrmd from this source tree, with the MariaDB programs its embedded database and
# its backups need (Debian/Ubuntu packages, installed only when missing). The server packages
# installed are the binaries only: no system MariaDB service is started.
#
#   sh systemd/install.sh
set -eu
cd "$(dirname "$0")/.."

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=""
for package in mariadb-server-core mariadb-client; do
    installed "$package" || missing="$missing $package"
done
if [ -n "$missing" ]; then
    as_root=""
    [ "$(id -u)" -eq 0 ] || as_root="sudo"
    echo "installing:$missing"
    $as_root apt-get update
    # shellcheck disable=SC2086 # one word per package
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi

python3 -m pip install --quiet .
echo "installed: $(command -v mycrmd) ($(mycrmd --version))"
