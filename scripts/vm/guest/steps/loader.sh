# The loader on the live kernel (issue 7): aactl load/replace/unload, the mode
# commands, disable/enable, load errors, a denial read back with `aactl log`,
# and remove-unknown, each step verified through securityfs.
# Check IDs: loader-*. Runs after the status checks (it changes the policy).
A=/opt/ours/aactl
AA=/sys/kernel/security/apparmor
# Audit records reach the ring buffer through printk_ratelimit() (10 per 5 s)
# when no auditd runs; the profile loads above use that up, so no limit here.
echo 0 >/proc/sys/kernel/printk_ratelimit
# mode_of NAME: the mode of a root-namespace profile from policy/profiles/*/mode
# (grep finds the folder whose name file holds NAME: few forks under TCG).
cat >/tmp/mode_of <<'EOS'
for f in $(grep -lx -- "$1" /sys/kernel/security/apparmor/policy/profiles/*/name); do
	cat "${f%/name}/mode"
done
EOS

# 1. replace, load (already exists), unload, load of a shipped profile file
# (Debian 12's usr.bin.man; $AAVM_REPLACE, see /vm/release.sh).
F=/etc/apparmor.d/$AAVM_REPLACE
run loader-replace $A replace --json "$F"
run loader-replace-verify cat $AA/profiles
run loader-load-exists $A load --json "$F"
run loader-unload $A unload --json "$F"
run loader-unload-verify cat $AA/profiles
run loader-reload $A load --json "$F"
run loader-reload-verify cat $AA/profiles

# 2. enforce, then complain, on klogd (flags=(complain) in Debian) in a tmpfs
# copy of /etc/apparmor.d; the file must come back byte for byte.
cp -a /etc/apparmor.d /tmp/aad
cp /tmp/aad/sbin.klogd /tmp/sbin.klogd.orig
run loader-enforce $A enforce --json -d /tmp/aad klogd
run loader-enforce-mode sh /tmp/mode_of klogd
run loader-enforce-diff diff -u /tmp/sbin.klogd.orig /tmp/aad/sbin.klogd
run loader-complain $A complain --json -d /tmp/aad klogd
run loader-complain-mode sh /tmp/mode_of klogd
run loader-complain-diff diff -u /tmp/sbin.klogd.orig /tmp/aad/sbin.klogd

# 3. disable, then enable.
run loader-disable $A disable --json -d /tmp/aad klogd
run loader-disable-verify cat $AA/profiles
run loader-disable-link readlink /tmp/aad/disable/sbin.klogd
run loader-enable $A enable --json -d /tmp/aad klogd
run loader-enable-verify cat $AA/profiles
run loader-enable-mode sh /tmp/mode_of klogd

# 5. Load errors: a syntax error, an unknown include.
mkdir -p /tmp/vmbad
printf '# a syntax error on line 3\nprofile vmbad-syntax {\n  /tmp/x r w x y z,\n}\n' >/tmp/vmbad/syntax
printf 'profile vmbad-include {\n  /tmp/x r,\n  include <abstractions/vm-no-such-file>\n}\n' >/tmp/vmbad/include
run loader-bad-syntax $A load --json /tmp/vmbad/syntax
run loader-bad-include $A load --json /tmp/vmbad/include
run loader-bad-verify cat $AA/profiles

# 6. Denials: a read under an enforce and a complain profile, read back from
# the ring buffer with `aactl log kernel`.
mkdir -p /tmp/vmdeny
echo enforce >/tmp/vmdeny/enforce-secret
echo complain >/tmp/vmdeny/complain-secret
run loader-deny-load $A load --json /vm/profiles/vmdeny
run loader-deny-load-verify cat $AA/profiles
run loader-deny-enforce sh -c 'echo "exec vmdeny-enforce" >/proc/self/attr/exec && exec /bin/busybox cat /tmp/vmdeny/enforce-secret'
run loader-deny-complain sh -c 'echo "exec vmdeny-complain" >/proc/self/attr/exec && exec /bin/busybox cat /tmp/vmdeny/complain-secret'
# kauditd prints asynchronously: wait (0.1 s steps, up to 60 s) until both
# records are in the ring buffer rather than for a fixed second.
_n=0
while [ "$_n" -lt 600 ]; do
	_d=$(dmesg)
	case "$_d" in
	*'name="/tmp/vmdeny/enforce-secret"'*)
		case "$_d" in *'name="/tmp/vmdeny/complain-secret"'*) break ;; esac ;;
	esac
	_n=$((_n + 1))
	sleep 0.1
done
note loader-dmesg-wait-polls "$_n"
run loader-dmesg dmesg
run loader-log $A log kernel --format json
run loader-log-summary $A log kernel --summary
run loader-log-suggest $A log kernel --suggest
run loader-metrics $A metrics --log kernel

# 4. remove-unknown: the test profiles (loaded from /vm/profiles) are unknown
# to /etc/apparmor.d; those of the child namespace vmns stay unless --namespaces.
run loader-ru-dry $A remove-unknown --dry-run --json
run loader-ru-dry-verify cat $AA/profiles
run loader-ru $A remove-unknown --json
run loader-ru-verify cat $AA/profiles
run loader-ru-ns $A remove-unknown --namespaces --json
run loader-ru-ns-verify cat $AA/profiles
