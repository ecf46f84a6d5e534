#!/bin/sh
# Fetch the tree-sitter grammars the skill scanner compiles in, at pinned
# versions, and verify them against the SHA-256 sums below before unpacking.
#
#   contrib/fetch-grammars.sh DESTDIR
#
# Unpacks into DESTDIR/javascript/ and DESTDIR/typescript/ (the npm package
# layouts: javascript/src/parser.c, typescript/{typescript,tsx}/src/parser.c,
# typescript/common/scanner.h) and touches DESTDIR/.stamp on success.
#
# Tarballs are taken from $OCSS_GRAMMAR_CACHE (a directory) when they are
# there, else fetched with `npm pack` (which uses the npm client's configured
# registry).  The grammar sources are never committed to this repository.
#
# Why these versions: Debian 12's libtree-sitter is 0.20.7, whose runtime
# accepts grammar ABI 13 and 14.  tree-sitter-javascript 0.23.1 and
# tree-sitter-typescript 0.23.2 are the newest releases generated with ABI
# 14; 0.25 and later are ABI 15 and ts_parser_set_language() refuses them.
set -eu

JS_VER=0.23.1
TS_VER=0.23.2
JS_SHA256=90e80b25a67517a4daf6ad751557bee21efbda7b7a5a554897933245d1734398
TS_SHA256=0fdf63c35930a75885145d75ee63cb879da2d49db9bfe454bd8e60b08ba778a1

[ $# -eq 1 ] || { echo "usage: $0 DESTDIR" >&2; exit 2; }
DEST=$1
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ocss-grammars.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		openssl dgst -sha256 -r "$1" | cut -d' ' -f1
	fi
}

# get NAME VERSION SHA256 SUBDIR
get() {
	tgz=$1-$2.tgz
	if [ -n "${OCSS_GRAMMAR_CACHE:-}" ] && [ -f "$OCSS_GRAMMAR_CACHE/$tgz" ]; then
		cp "$OCSS_GRAMMAR_CACHE/$tgz" "$TMP/$tgz"
	else
		command -v npm >/dev/null 2>&1 || {
			echo "$0: npm not found; install it (apt-get install npm) or put" \
			    "$tgz in a directory named by OCSS_GRAMMAR_CACHE" >&2
			exit 1
		}
		(cd "$TMP" && npm pack --silent "$1@$2" >/dev/null) || {
			echo "$0: 'npm pack $1@$2' failed (no registry access?);" \
			    "put $tgz in a directory named by OCSS_GRAMMAR_CACHE" >&2
			exit 1
		}
	fi
	got=$(sha256 "$TMP/$tgz")
	if [ "$got" != "$3" ]; then
		echo "$0: $tgz: SHA-256 $got, expected $3; refusing to build with it" >&2
		exit 1
	fi
	mkdir -p "$TMP/x-$4" "$DEST/$4"
	tar -xzf "$TMP/$tgz" -C "$TMP/x-$4"
	# Copied over, not moved: the build's .deps directories live there.
	cp -R "$TMP/x-$4/package/." "$DEST/$4/"
	if [ -n "${OCSS_GRAMMAR_CACHE:-}" ] && [ ! -f "$OCSS_GRAMMAR_CACHE/$tgz" ]; then
		mkdir -p "$OCSS_GRAMMAR_CACHE" && cp "$TMP/$tgz" "$OCSS_GRAMMAR_CACHE/" || :
	fi
}

get tree-sitter-javascript "$JS_VER" "$JS_SHA256" javascript
get tree-sitter-typescript "$TS_VER" "$TS_SHA256" typescript
for f in javascript/src/parser.c javascript/src/scanner.c \
    typescript/typescript/src/parser.c typescript/typescript/src/scanner.c \
    typescript/tsx/src/parser.c typescript/tsx/src/scanner.c \
    typescript/common/scanner.h; do
	[ -f "$DEST/$f" ] || { echo "$0: $f missing from the package" >&2; exit 1; }
done
touch "$DEST/.stamp"
echo "grammars: tree-sitter-javascript $JS_VER, tree-sitter-typescript $TS_VER in $DEST"
