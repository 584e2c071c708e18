#!/usr/bin/env bash
# Install the Debian packages the project needs (fonts for every script, WeasyPrint's
# libraries, PDF and gettext tools), when missing; with --test also those only the tests
# need. As root it installs them with apt-get; otherwise it names them and stops, so the
# user can ask an administrator.
#   tools/system-deps.sh          # to build handouts
#   tools/system-deps.sh --test   # to build handouts and run the tests
set -euo pipefail
packages=(
  fonts-noto-core fonts-noto-cjk      # Noto fonts: Latin, Arabic, Devanagari, CJK, ...
  libpango-1.0-0 libpangoft2-1.0-0    # WeasyPrint's text layout
  libharfbuzz-subset0                 # font subsetting for small PDFs
  poppler-utils qpdf                  # pdftotext, pdffonts, pdftoppm; PDF checks
  gettext                             # msgfmt --check for catalogs
)
test_packages=(
  chromium chromium-driver            # the staff index page, tested in headless Chromium
  zbar-tools                          # zbarimg decodes the printed QR codes
  systemd                             # systemd-analyze verify checks docs/scheduling.md's units
)
case "${1:-}" in
  "") ;;
  --test) packages+=("${test_packages[@]}") ;;
  *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
