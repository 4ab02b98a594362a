# Copies the live AppArmor state into $R/snapshot, laid out as a root folder:
#   proc/mounts, proc/PID/{attr/current, attr/apparmor/current, comm, exe -> target}
#   sys/kernel/security/apparmor/{profiles, revision, features/..., policy/...}
#     policy/: profiles/DIR/{name,mode,attach} and namespaces/NS/... recursively
#   sys/module/apparmor/parameters/*  (only the readable ones)
# Only text files and symlinks: no binary policy blobs.
S="$R/snapshot"
mkdir -p "$S/proc" "$S/sys/module/apparmor/parameters"
cat /proc/mounts >"$S/proc/mounts"

# Every fork is slow under TCG, so files are copied with one `cp` per folder
# where possible (busybox cp reads to EOF: fine for 0-size proc/securityfs files).
# copy_file SRC DST: copies a file's content if it can be read.
copy_file() {
	cat "$1" >"$2" 2>/dev/null || rm -f "$2"
}

for d in /proc/[0-9]*; do
	pid=${d#/proc/}
	t="$S/proc/$pid"
	mkdir -p "$t/attr/apparmor"
	cp "$d/attr/current" "$t/attr/" 2>/dev/null
	cp "$d/attr/apparmor/current" "$t/attr/apparmor/" 2>/dev/null || rmdir "$t/attr/apparmor"
	cp "$d/comm" "$t/" 2>/dev/null
	if x=$(readlink "$d/exe" 2>/dev/null); then
		ln -s "$x" "$t/exe"
	fi
	# A process that ended during the scan leaves nothing behind.
	if [ ! -e "$t/comm" ]; then rm -rf "$t"; fi
done

AA=/sys/kernel/security/apparmor
if [ -d "$AA" ]; then
	A="$S$AA"
	mkdir -p "$A"
	copy_file "$AA/profiles" "$A/profiles"
	# A second read() on revision's fd blocks until the policy changes, so
	# read it with a single read (dd count=1), never with cat.
	dd if="$AA/revision" of="$A/revision" bs=64 count=1 2>/dev/null || rm -f "$A/revision"
	# features/: the whole tree (directories and one-value text files).
	cp -r "$AA/features" "$A/"
	# policy/: namespaces and per-profile name, mode, attach.
	copy_policy() { # SRC DST
		mkdir -p "$2/profiles" "$2/namespaces"
		for p in "$1"/profiles/*; do
			[ -d "$p" ] || continue
			copy_profile "$p" "$2/profiles/${p##*/}"
		done
		for n in "$1"/namespaces/*; do
			[ -d "$n" ] || continue
			copy_policy "$n" "$2/namespaces/${n##*/}"
		done
	}
	copy_profile() { # SRC DST (children of a profile live in SRC/profiles/)
		mkdir -p "$2"
		cp "$1/name" "$1/mode" "$1/attach" "$2/" 2>/dev/null
		if [ -d "$1/profiles" ]; then
			for c in "$1"/profiles/*; do
				[ -d "$c" ] || continue
				copy_profile "$c" "$2/profiles/${c##*/}"
			done
		fi
	}
	copy_policy "$AA/policy" "$A/policy"
fi
for p in /sys/module/apparmor/parameters/*; do
	[ -f "$p" ] || continue
	copy_file "$p" "$S/sys/module/apparmor/parameters/${p##*/}"
done
note snapshot_files "$(find "$S" -type f | wc -l)"
