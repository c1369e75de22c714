#!/bin/sh
# Builds plotly.js with only the trace types the pages draw: about 1.5 MB (410 KB compressed) instead of the
# full bundle's 4.8 MB (1.1 MB). Needs node and npm; run it again when the plotly Python package moves to a new
# plotly.js, or when a page draws a trace type not listed here (tests/layouts/test_plotly_bundle.py says so).
#     sh assets/on_demand/build_plotly.sh
set -eu
VERSION=4.1.1  # plotly.offline.get_plotlyjs_version() of the plotly Python package we install
TRACES="bar heatmap waterfall funnel choropleth"  # and scatter, always in
ESBUILD=0.28.2

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund "plotly.js@$VERSION" "esbuild@$ESBUILD"
{
    echo "var Plotly = require('plotly.js/lib/core');"
    echo "Plotly.register(["
    for trace in $TRACES; do echo "    require('plotly.js/lib/$trace'),"; done
    echo "]);"
    echo "module.exports = Plotly;"
} > entry.js
# The same settings as plotly.js's own build (esbuild-config.js); maplibre's stylesheet is only for map traces.
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
    --define:global=window --define:define.amd=false --loader:.css=empty --legal-comments=eof \
    --banner:js="/* plotly.js v$VERSION, MIT license; traces: scatter $TRACES */" \
    --log-level=warning --outfile=bundle.js
# The name carries the content's hash: a rebuilt bundle gets a new URL, so no browser or kept copy serves the old one.
name="plotly-$VERSION-$(sha256sum bundle.js | cut -c1-10).min.js"
rm -f "$here"/plotly-*.min.js
cp bundle.js "$here/$name"
sed -i "s|plotly-[0-9.]*-[0-9a-f]*\.min\.js|$name|" "$here/../plotly_on_demand.js"
echo "$here/$name"
