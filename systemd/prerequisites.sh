# Sourced by systemd/install.sh and tests/run.sh from the checkout's root: the Debian/Ubuntu
# packages they need, installed only when missing, and the virtual environments they install
# Python packages into (PEP 668: the distribution's Python takes no pip installs).

# The distribution's Python, whatever comes first on PATH: a virtual environment on it works
# for every user, the service's included, unlike one on a Python kept in someone's home.
PYTHON=/usr/bin/python3

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# install_missing PACKAGE...: apt-get installs those not installed, and python3-venv when the
# distribution's python3 cannot make a virtual environment (or is missing); the packages'
# services are not started.
install_missing() {
    missing=""
    for package in "$@"; do
        installed "$package" || missing="$missing $package"
    done
    "$PYTHON" -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"
    [ -n "$missing" ] || return 0
    as_root=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null; then
            echo "$0: missing Debian packages:$missing" >&2
            echo "$0: as root, run: apt-get install$missing; then run this again" >&2
            exit 1
        fi
        as_root=sudo
    fi
    echo "installing:$missing"
    # Services such as Dovecot's would start on every interface; policy-rc.d is consulted by
    # the packages' scripts.
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        guard=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' | $as_root tee "$guard" >/dev/null
        $as_root chmod 755 "$guard"
        trap '$as_root rm -f "$guard"' EXIT
    fi
    $as_root apt-get update
    # shellcheck disable=SC2086 # one word per package
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
    if [ -n "$guard" ]; then
        $as_root rm -f "$guard"
        trap - EXIT
    fi
}

# make_venv DIR: a virtual environment with pip in DIR on the distribution's Python, kept when
# it already works; made again when it does not (its Python replaced by a Debian upgrade, say).
make_venv() {
    "$1/bin/python" -c "import pip" 2>/dev/null || "$PYTHON" -m venv "$1"
}
