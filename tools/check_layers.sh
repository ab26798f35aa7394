#!/usr/bin/env bash
# Fails when a file of lib/ includes a folder above its own layer (docs/ARCHITECTURE.md).
#
#   tools/check_layers.sh        # from anywhere; prints each offending #include, exit 1
#
# lib/LAYERS lists the layers lowest first, each with the layers it builds on; a layer may
# include its own folder and every layer those reach. Also refused:
#   - a folder of lib/ that lib/LAYERS does not list (a new layer must say where it goes)
#   - a lib/LAYERS line naming a layer that is not listed before it (a cycle)
#   - a lib/ file including tools/, tests/, bench/ or examples/
#   - a public header (include/usagedb/) including anything of lib/ or the repository
#   - a relative #include ("part.h", "../db/x.h"): every header is included by its path from
#     the repository root, which is what this check reads
# The build runs it (usagedb_check_layers, lib/CMakeLists.txt); tools/check.sh runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A reach=()  # layer -> the layers it may include, itself among them
layers=()
failures=0
fail() {
  echo "check_layers: $*" >&2
  failures=$((failures + 1))
}

while read -r layer below; do
  [[ -z "$layer" || "$layer" == \#* ]] && continue
  [[ -n "${reach[$layer]:-}" ]] && { fail "lib/LAYERS lists $layer twice"; continue; }
  r="$layer"
  for b in $below; do
    if [[ -z "${reach[$b]:-}" ]]; then
      fail "lib/LAYERS: $layer builds on $b, which is not listed before it"
      continue
    fi
    r="$r ${reach[$b]}"
  done
  reach[$layer]=$(tr ' ' '\n' <<<"$r" | sed '/^$/d' | sort -u | tr '\n' ' ')
  layers+=("$layer")
done <lib/LAYERS

for dir in lib/*/; do
  layer=$(basename "$dir")
  [[ -n "${reach[$layer]:-}" ]] || fail "lib/$layer/ is not a layer: add it to lib/LAYERS, after the layers it builds on"
done

# Every #include of lib/ and include/ ("file:line:text"), parsed with bash alone: one
# process per include line would take seconds.
include_re='^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]*)[">]'
while IFS= read -r hit; do
  file=${hit%%:*}
  [[ "${hit#*:}" =~ $include_re ]] || continue
  line=${BASH_REMATCH[1]}
  path=${BASH_REMATCH[2]}
  where="$file:$line: #include \"$path\""
  if [[ "$path" == *..* || ( "$path" != */* && -e "${file%/*}/$path" ) ]]; then
    fail "$where: include it by its path from the repository root"
    continue
  fi
  case "$file" in
    include/*)
      case "$path" in
        lib/* | tools/* | tests/* | bench/* | examples/* | include/*)
          fail "$where: a public header includes only usagedb/ and third-party headers" ;;
      esac
      ;;
    lib/*)
      layer=${file#lib/}
      layer=${layer%%/*}
      case "$path" in
        lib/*/*)
          target=${path#lib/}
          target=${target%%/*}
          [[ -n "${reach[$layer]:-}" ]] || continue  # reported above
          if [[ " ${reach[$layer]} " != *" $target "* ]]; then
            allowed=$(sed -E 's/ +$//; s/ /,/g' <<<"${reach[$layer]}")
            fail "$where: $layer may include only lib/{$allowed}/"
          fi
          ;;
        tools/* | tests/* | bench/* | examples/* | include/*)
          fail "$where: lib/ includes only lib/, usagedb/ and third-party headers" ;;
      esac
      ;;
  esac
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' lib include \
           --include='*.h' --include='*.cc' --include='*.hh' --include='*.inc' --include='*.cpp' || true)

if ((failures > 0)); then
  echo "check_layers: $failures problem(s); the layers, lowest first: ${layers[*]} (lib/LAYERS)" >&2
  exit 1
fi
echo "check_layers: every include of lib/ points down: ${layers[*]}"
