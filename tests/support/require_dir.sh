#!/bin/sh
# require_dir.sh DIR COMMAND...: run COMMAND, or exit 77 (ctest: skipped) when DIR is absent.
dir=$1
shift
if [ ! -d "$dir" ]; then
  echo "skipped: reference data folder '$dir' not found"
  exit 77
fi
exec "$@"
