#!/usr/bin/env bash
# vendor.sh — updates the vendored BarcodeDetector polyfill (npm
# `barcode-detector`, ZXing-C++ compiled to WebAssembly through
# `zxing-wasm`) in static/vendor/barcode-detector: the ES module build, the
# reader's .wasm and the licences. Nothing is built at run time: the app
# imports these files as they are, only where the browser has no native
# BarcodeDetector (js/scanner.js).
#
#   webapp/vendor.sh            # the version pinned below
#   webapp/vendor.sh 3.2.3      # another version of barcode-detector
#
# Needs npm (the registry) and, for the ZXing-C++ licence, Debian's
# /usr/share/common-licenses/Apache-2.0 or curl.
set -euo pipefail
version="${1:-3.2.2}"
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/static/vendor/barcode-detector"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "barcode-detector@$version" >/dev/null
mkdir bd && tar -xzf barcode-detector-*.tgz -C bd
zxing="$(node -p "require('./bd/package/package.json').dependencies['zxing-wasm']")"
npm pack --silent "zxing-wasm@$zxing" >/dev/null
mkdir zw && tar -xzf zxing-wasm-*.tgz -C zw

# The ponyfill entry and the bundle it imports (zxing-wasm's reader glue is
# bundled into zxing-exported.js); the reader's wasm beside them.
for f in ponyfill.js zxing-exported.js; do
  test -f "bd/package/dist/es/$f" || { echo "vendor.sh: barcode-detector $version has no dist/es/$f" >&2; exit 1; }
done
test -f zw/package/dist/reader/zxing_reader.wasm || { echo "vendor.sh: zxing-wasm $zxing has no dist/reader/zxing_reader.wasm" >&2; exit 1; }

rm -rf "$dest"
mkdir -p "$dest"
cp bd/package/dist/es/ponyfill.js bd/package/dist/es/zxing-exported.js "$dest/"
cp zw/package/dist/reader/zxing_reader.wasm "$dest/"
cp bd/package/LICENSE "$dest/LICENSE"
cp zw/package/LICENSE "$dest/LICENSE.zxing-wasm"
if [ -f /usr/share/common-licenses/Apache-2.0 ]; then
  cp /usr/share/common-licenses/Apache-2.0 "$dest/LICENSE.zxing-cpp"
else
  curl -fsSL https://www.apache.org/licenses/LICENSE-2.0.txt -o "$dest/LICENSE.zxing-cpp"
fi
commit="$(grep -o '"[0-9a-f]\{40\}"' "$dest/zxing-exported.js" | head -1 | tr -d '"')"
cat > "$dest/VERSION" <<TXT
barcode-detector $version (MIT, Ze-Zheng Wu): LICENSE
zxing-wasm $zxing (MIT, Ze-Zheng Wu): LICENSE.zxing-wasm
ZXing-C++ ${commit:-unknown} (Apache-2.0, Axel Waggershauser and contributors): LICENSE.zxing-cpp
wasm sha256 $(sha256sum "$dest/zxing_reader.wasm" | cut -d' ' -f1)
updated by webapp/vendor.sh
TXT
gz=$(gzip -9c "$dest/zxing_reader.wasm" | wc -c)
js=$(cat "$dest/ponyfill.js" "$dest/zxing-exported.js" | gzip -9c | wc -c)
echo "vendored barcode-detector $version + zxing-wasm $zxing in $dest: wasm $gz B gzip, js $js B gzip"
