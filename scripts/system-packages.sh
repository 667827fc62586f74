#!/usr/bin/env bash
# Install the Debian packages that a part of 关爱通 needs, when they are missing.
#   scripts/system-packages.sh run    fonts and libraries for printing (WeasyPrint, Chinese fonts)
#   scripts/system-packages.sh test   the above, plus PostgreSQL 15, Chromium and poppler for the tests
set -euo pipefail

run_packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk)
test_packages=(postgresql-15 chromium poppler-utils)

wanted=("${run_packages[@]}")
if [ "${1:-run}" = "test" ]; then
  wanted+=("${test_packages[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "安装缺少的系统软件包：${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt_get=(apt-get)
elif command -v sudo >/dev/null 2>&1; then
  apt_get=(sudo apt-get)
else
  echo "缺少系统软件包 ${missing[*]}，且当前用户不是 root：请用管理员权限执行 apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt_get[@]}" update -qq
"${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"
