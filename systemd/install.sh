#!/bin/sh
# Install mycrmd from this source tree, or upgrade it in place, into a virtual environment of
# its own, with the Debian/Ubuntu packages it needs when they are missing (python3-venv, and
# the MariaDB programs of its embedded database and its backups: binaries only, no system
# MariaDB service), and link the mycrmd command onto PATH. Arguments, if any, are a mycrmd
# command run once installed, so `sh systemd/install.sh serve` works before PATH knows mycrmd.
#
#   sh systemd/install.sh [COMMAND [OPTIONS]]
#
# As root: /opt/mycrmd (the systemd unit runs /opt/mycrmd/bin/mycrmd), linked from
# /usr/local/bin; otherwise ~/.local/share/mycrmd, linked from ~/.local/bin. MYCRMD_VENV and
# MYCRMD_BIN_DIR choose other places.
set -eu
cd "$(dirname "$0")/.."
. systemd/prerequisites.sh

if [ "$(id -u)" -eq 0 ]; then
    venv_dir=${MYCRMD_VENV:-/opt/mycrmd}
    bin_dir=${MYCRMD_BIN_DIR:-/usr/local/bin}
else
    venv_dir=${MYCRMD_VENV:-$HOME/.local/share/mycrmd}
    bin_dir=${MYCRMD_BIN_DIR:-$HOME/.local/bin}
fi
# The service's own user must be able to read what root installs.
umask 022

install_missing mariadb-server-core mariadb-client
make_venv "$venv_dir"
echo "installing mycrmd and the Python packages it needs into $venv_dir"
"$venv_dir/bin/python" -m pip install --quiet .
mkdir -p "$bin_dir"
ln -sf "$venv_dir/bin/mycrmd" "$bin_dir/mycrmd"
echo "installed: $bin_dir/mycrmd ($("$venv_dir/bin/mycrmd" --version))"

found=$(command -v mycrmd || true)
if [ "$found" != "$bin_dir/mycrmd" ]; then
    case ":$PATH:" in
    *":$bin_dir:"*)
        echo "note: $found comes first on PATH, so it, not this install, is what 'mycrmd' runs"
        ;;
    *)
        echo "note: $bin_dir is not on PATH: run $bin_dir/mycrmd, or add $bin_dir to PATH"
        [ "$bin_dir" != "$HOME/.local/bin" ] ||
            echo "  (Debian's and Ubuntu's ~/.profile add it at login now that it exists)"
        ;;
    esac
fi

[ $# -eq 0 ] || exec "$venv_dir/bin/mycrmd" "$@"
