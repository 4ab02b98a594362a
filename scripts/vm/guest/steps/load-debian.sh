# Loads every profile file in Debian's /etc/apparmor.d (as apparmor.service
# would: top-level files, skipping those linked in disable/).
files=""
for f in /etc/apparmor.d/*; do
	[ -f "$f" ] || continue
	[ -e "/etc/apparmor.d/disable/${f##*/}" ] && continue
	files="$files $f"
done
note debian_profile_files "$(echo $files | wc -w)"
# shellcheck disable=SC2086
run load-debian apparmor_parser -r $files
