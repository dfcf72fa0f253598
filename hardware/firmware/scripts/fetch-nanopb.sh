#!/usr/bin/env bash
# Fetches the nanopb runtime (pb_encode.c, pb_decode.c, pb_common.c and
# headers) from Debian's nanopb SOURCE package, at the version of the
# installed nanopb generator, into the git-ignored hardware/firmware/.cache/.
# A private apt configuration (a copy of the machine's sources with deb-src
# added) keeps the system's apt state untouched. Never commit the result.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="$here/.cache"
version="$(dpkg-query -W -f='${Version}' nanopb 2>/dev/null || true)"
if [ -z "$version" ]; then
  echo "fetch-nanopb: the nanopb generator is not installed (apt-get install nanopb)" >&2
  exit 1
fi
upstream="${version%-*}"
upstream="${upstream#*:}"
dest="$cache/nanopb-$upstream"
if [ -f "$dest/pb_decode.c" ] && [ -f "$dest/.debian-version" ] && [ "$(cat "$dest/.debian-version")" = "$version" ]; then
  exit 0
fi
apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/sources.list.d" "$cache/src"
src_list=/etc/apt/sources.list.d/debian.sources
if [ ! -f "$src_list" ]; then
  echo "fetch-nanopb: $src_list not found (expected a deb822 Debian sources file)" >&2
  exit 1
fi
sed -E 's/^Types:.*$/Types: deb deb-src/' "$src_list" > "$apt_dir/sources.list.d/debian.sources"
apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "APT::Sandbox::User=root")
echo "fetch-nanopb: nanopb $version source package into $cache" >&2
apt-get -qq "${apt_opts[@]}" update
(cd "$cache/src" && apt-get -qq "${apt_opts[@]}" source --download-only "nanopb=$version")
orig="$(ls "$cache/src"/nanopb_"$upstream".orig.tar.* | head -n1)"
rm -rf "$dest" && mkdir -p "$dest"
tar -xf "$orig" -C "$dest" --strip-components=1 --wildcards \
  "*/pb.h" "*/pb_common.c" "*/pb_common.h" "*/pb_decode.c" "*/pb_decode.h" "*/pb_encode.c" "*/pb_encode.h" \
  --exclude="*/spm_headers/*" --exclude="*/extra/*"
for f in pb.h pb_common.c pb_common.h pb_decode.c pb_decode.h pb_encode.c pb_encode.h; do
  [ -f "$dest/$f" ] || { echo "fetch-nanopb: $f missing from $orig" >&2; exit 1; }
done
# the runtime must be the generator's version (generated headers check PB_PROTO_HEADER_VERSION too)
grep -q "NANOPB_VERSION \"nanopb-$upstream\"" "$dest/pb.h" || { echo "fetch-nanopb: runtime in $orig is not nanopb-$upstream" >&2; exit 1; }
echo "$version" > "$dest/.debian-version"
ln -sfn "nanopb-$upstream" "$cache/nanopb"
rm -rf "$apt_dir/lists" "$cache/src"
