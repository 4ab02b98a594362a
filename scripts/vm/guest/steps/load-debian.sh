# Loads Debian's policy: every profile file of /etc/apparmor.d (list in
# /vm/debian-policy.files), compiled on the host by the same apparmor_parser
# (scripts/vm/build-initramfs) and loaded here with `apparmor_parser -r -B`.
# One file (usr.bin.man, three profiles) is then compiled and replaced in the
# guest too, so the compile path runs on the live kernel as well.
note debian_profile_files "$(wc -l </vm/debian-policy.files)"
run load-debian apparmor_parser -r -B /vm/debian-policy.bin
run load-debian-compile-one apparmor_parser -r /etc/apparmor.d/usr.bin.man
# Names declared by those files (apparmor_parser -N on the host).
run debian-policy-names cat /vm/debian-policy.names
