# Loads the release's policy: every profile file of /etc/apparmor.d (list in
# /vm/debian-policy.files), compiled on the host by the release's own
# apparmor_parser (scripts/vm/build-initramfs) into the blobs listed in
# /vm/debian-policy.blobs (one for the root namespace, one per file that
# declares a namespace) and loaded here with `apparmor_parser -r -B`.
# One small file ($AAVM_REPLACE: usr.bin.man on Debian 12) is then compiled
# and replaced in the guest too, so the compile path runs on the live kernel.
note debian_profile_files "$(wc -l </vm/debian-policy.files)"
# shellcheck disable=SC2046
run load-debian apparmor_parser -r -B $(cat /vm/debian-policy.blobs)
run load-debian-compile-one apparmor_parser -r "/etc/apparmor.d/$AAVM_REPLACE"
# Names declared by those files (apparmor_parser -N on the host).
run debian-policy-names cat /vm/debian-policy.names
