#!/usr/bin/env bash
# Builds (once per commit) the roddhjav/apparmor.d profile collection the way
# its Debian package builds it, inside a copy of a reference userland
# (scripts/platforms/root SUITE; sid by default, AA_APPARMOR_D_SUITE=trixie for
# the other), and records that release's apparmor_parser verdict on every
# profile of it (5.0.2 for sid, 4.1.0 for trixie). Prints the output folder.
# Needs root (chroot, mount). apparmor.d's build tool reads the root's
# os-release: sid (forky) gives ABI 5 / AppArmor 5.0, trixie ABI 4 / 4.1.
#
# Usage: scripts/platforms/apparmor.d [GIT_DIR [COMMIT]]
#   GIT_DIR  a (bare) git directory of apparmor.d, default the local mirror
#            /work/.mirror/roddhjav+apparmor.d/repo (AA_APPARMOR_D_GIT)
#   COMMIT   default GIT_DIR's HEAD
# Or AA_APPARMOR_D_SRC=CHECKOUT: build that work tree as it is (its commit
# names the output when it is a clean git checkout; otherwise "local", which
# is rebuilt every time).
#
# Output: ${AA_PLATFORMS_DIR:-/var/tmp/aa-platforms}/apparmor.d-COMMIT/ (COMMIT
# abbreviated to 9 hex digits; apparmor.d-COMMIT-trixie for trixie) with
#   tree/               the built .build/apparmor.d (abstractions/, tunables/,
#                       groups/, profiles-*/, mappings/, namespaces/)
#   base/               the include base an installed host has: the release's
#                       /etc/apparmor.d/{abi,abstractions,tunables} overlaid by
#                       tree/abstractions and tree/tunables
#   commit              the full commit id
#   features            the release's pinned feature file (the verdicts' ABI)
#   build-seconds       wall time of the build (prebuild step only)
#   verdicts-VER.tsv    (VER: the release's parser version) one line per profile file: PATH (relative to tree/),
#                       pass|fail, apparmor_parser's first error line (or "");
#                       "#" lines are comments, "#real_seconds=N" the wall time
# and, for sid, a link apparmor.d-current -> the folder last built.
#
# The chroot is a private copy of root-SUITE (build-SUITE; root-SUITE is shared
# and never modified) with golang-go, just, make and ca-certificates added. The
# build runs offline (GOPROXY=off: apparmor.d's go.mod has no dependencies).
# AA_APPARMOR_D_JOBS (default 2) parallel apparmor_parser runs;
# AA_APPARMOR_D_NO_VERDICTS=1 builds only.
set -euo pipefail
export LC_ALL=C
here="$(cd "$(dirname "$0")" && pwd)"
base="${AA_PLATFORMS_DIR:-/var/tmp/aa-platforms}"
suite="${AA_APPARMOR_D_SUITE:-sid}"
case "$suite" in sid | trixie) ;; *) echo "apparmor.d: unknown suite '$suite' (sid, trixie)" >&2; exit 2 ;; esac
sroot="$base/root-$suite"
broot="$base/build-$suite"
jobs="${AA_APPARMOR_D_JOBS:-2}"

[ "$(id -u)" = 0 ] || { echo "apparmor.d: needs root (chroot, mount)" >&2; exit 1; }
[ -e "$sroot/.complete" ] || "$here/root" "$suite" >/dev/null

# --- the source and its commit ---
src_dir="" gitdir="" commit=""
if [ -n "${AA_APPARMOR_D_SRC:-}" ]; then
	src_dir="$(cd "$AA_APPARMOR_D_SRC" && pwd)"
	if git -C "$src_dir" rev-parse HEAD >/dev/null 2>&1 &&
		[ -z "$(git -C "$src_dir" status --porcelain 2>/dev/null)" ]; then
		commit="$(git -C "$src_dir" rev-parse HEAD)"
	else
		commit="local"
	fi
else
	gitdir="${1:-${AA_APPARMOR_D_GIT:-/work/.mirror/roddhjav+apparmor.d/repo}}"
	commit="$(git --git-dir="$gitdir" rev-parse --verify "${2:-HEAD}^{commit}")"
fi
short="${commit:0:9}"
out="$base/apparmor.d-$short"
[ "$suite" = sid ] || out="$out-$suite"
mkdir -p "$base"
exec 9>"$base/.apparmor.d.lock"
flock 9

mounted=()
cleanup() {
	local m
	for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
}
trap cleanup EXIT
mount_proc() {
	mountpoint -q "$broot/proc" || { mount -t proc proc "$broot/proc"; mounted+=("$broot/proc"); }
}

# --- the private build root ---
if [ ! -e "$broot/.aad-ready" ]; then
	echo "apparmor.d: preparing $broot (copy of root-$suite + golang-go just make)" >&2
	rm -rf "$broot"
	cp -a "$sroot" "$broot"
	rm -f "$broot/.complete"
	cp /etc/resolv.conf "$broot/etc/resolv.conf" 2>/dev/null || true
	mount_proc
	chroot "$broot" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	chroot "$broot" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends golang-go just make ca-certificates >&2
	touch "$broot/.aad-ready"
fi

# --- build ---
if [ "$commit" = local ] || [ ! -e "$out/.built" ]; then
	rm -rf "$out" "$broot/build/$short"
	mkdir -p "$broot/build/$short" "$out"
	if [ -n "$src_dir" ]; then
		# the work tree as it is, without a previous build's output
		tar -C "$src_dir" --exclude=./.build --exclude=./.git -cf - . | tar -x -C "$broot/build/$short"
	else
		git --git-dir="$gitdir" archive "$commit" | tar -x -C "$broot/build/$short"
	fi
	mount_proc
	echo "apparmor.d: building $short in $broot" >&2
	t0=$(date +%s.%N)
	chroot "$broot" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-p=1 \
		sh -c "cd /build/$short && just build=.build prebuild" >&2
	t1=$(date +%s.%N)
	cp -a "$broot/build/$short/.build/apparmor.d" "$out/tree"
	rm -rf "$broot/build/$short"
	# include base: the release's abi/abstractions/tunables, then the build's
	mkdir -p "$out/base"
	cp -a "$sroot/etc/apparmor.d/abi" "$sroot/etc/apparmor.d/abstractions" \
		"$sroot/etc/apparmor.d/tunables" "$out/base/"
	cp -a "$out/tree/abstractions/." "$out/base/abstractions/"
	cp -a "$out/tree/tunables/." "$out/base/tunables/"
	echo "$commit" >"$out/commit"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$out/build-seconds"
	touch "$out/.built"
fi
cleanup
mounted=()
# the ABI the verdicts are for (a copy, so that the folder stands alone)
[ -e "$out/features" ] || cp "$sroot/usr/share/apparmor-features/features" "$out/features"

# --- the release's verdicts ---
# Profile files: everything outside abstractions/, tunables/ (include
# fragments) and mappings/ (its */base files are fragments too).
version="$("$here/run" "$suite" apparmor_parser --version | head -n1 | awk '{print $NF}')"
verdicts="$out/verdicts-$version.tsv"
if [ ! -e "$verdicts" ] && [ "${AA_APPARMOR_D_NO_VERDICTS:-0}" != 1 ]; then
	echo "apparmor.d: apparmor_parser $version -QK on every profile ($jobs in parallel)" >&2
	one() {
		local rel="$1" err rc=0
		err="$("$here/run" "$suite" apparmor_parser -QK --config-file "$sroot/.aa-parser.conf" \
			-b "$out/base" "$out/tree/$rel" 2>&1 >/dev/null)" || rc=$?
		if [ "$rc" = 0 ]; then
			printf '%s\tpass\t\n' "$rel"
		else
			# the first line that says something, not the cache notice printed
			# where securityfs is absent (tabs would break the TSV)
			printf '%s\tfail\t%s\n' "$rel" "$(printf '%s\n' "$err" | grep -v '^Cache read/write disabled' |
				grep -m1 . | tr '\t' ' ')"
		fi
	}
	export -f one
	export here sroot out suite
	t0=$(date +%s.%N)
	(cd "$out/tree" && find . -type f -not -path './abstractions/*' -not -path './tunables/*' \
		-not -path './mappings/*' -printf '%P\0' | sort -z |
		xargs -0 -r -n1 -P"$jobs" bash -c 'one "$1"' one) >"$verdicts.tmp"
	t1=$(date +%s.%N)
	secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
	{
		echo "# apparmor_parser $version -QK, $suite's pinned features, base/ as include base, $jobs jobs"
		echo "#real_seconds=$secs"
		sort "$verdicts.tmp"
	} >"$verdicts.tmp2"
	rm -f "$verdicts.tmp"
	mv "$verdicts.tmp2" "$verdicts"
fi
[ "$suite" != sid ] || ln -sfn "apparmor.d-$short" "$base/apparmor.d-current"
echo "$out"
