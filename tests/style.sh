#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Style rules that a compiler does not check: an SPDX line in every source file, no banned calls
# (sprintf strcpy strcat strtok atoi gets), no TODO or FIXME, lines at most 100 columns.
cd "$(dirname "$0")/.."
fail=0
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' '*.sh' '*.cmake' 'CMakeLists.txt' '*/CMakeLists.txt' 2>/dev/null ||
	find . -name '*.[ch]' -not -path './build*')
code=$(grep -v '^tests/style.sh$' <<< "$files")
for f in $files; do
	head -3 "$f" | grep -q 'SPDX-License-Identifier: GPL-3.0-or-later' ||
		{ echo "$f: no SPDX line"; fail=1; }
done
c_files=$(grep -E '\.[ch]$' <<< "$files")
if grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\(' $c_files | grep -v '^\S*:[0-9]*:\s*/\?\*'; then
	echo "banned call above"; fail=1
fi
if grep -nE 'TODO|FIXME|\bXXX\b' $code; then echo "TODO/FIXME/XXX above: docs/KNOWN_LIMITS.md"; fail=1; fi
# Columns as an editor shows them: tabs to multiples of 8, a CJK character takes two.
if perl -CSD -ne '1 while s/\t+/" " x (length($&) * 8 - length($`) % 8)/e;
	$w = length; $w += () = /[\x{2E80}-\x{FFEF}]/g;
	if ($w > 100) { print "$ARGV:$.: $w columns\n"; $bad = 1 } close ARGV if eof;
	END { exit !$bad }' $c_files; then
	fail=1
fi
[ "$fail" = 0 ] && echo "style: $(wc -w <<< "$files") files checked, 1 passed, 0 failed"
exit "$fail"
