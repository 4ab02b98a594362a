# Profile generation on the live kernel: `aactl genprof` writes a starting
# profile for a small `#!/bin/sh` program, loads it in complain mode and runs
# the program; the plan of its records is read back from the ring buffer
# with `aactl triage --json`, every proposal answered with the shell (allow;
# inherit for an exec), applied with `--answers --set-mode enforce`; the
# program then runs again in enforce mode, with no DENIED record.
# Check IDs: genprof-*. Runs after the loader step (it changes the policy).
A=/opt/ours/aactl
P=/usr/local/bin/aa-demo
D=/tmp/gpd
# each load compiles in the guest (tunables, abstractions): slow under TCG
RUN_TIMEOUT=150
echo 0 >/proc/sys/kernel/printk_ratelimit

# fence NAME: loads an empty profile NAME and waits (0.1 s steps, up to 60 s)
# until its load record is in the ring buffer. Audit records reach the ring
# buffer in order, so every record logged before it is there too.
fence() {
	printf 'profile %s {\n}\n' "$1" >"/tmp/$1"
	/sbin/apparmor_parser -r "/tmp/$1" >/dev/null 2>&1
	_n=0
	while [ "$_n" -lt 600 ]; do
		case "$(dmesg)" in *"name=\"$1\""*) break ;; esac
		_n=$((_n + 1))
		sleep 0.1
	done
	note "genprof-$1-polls" "$_n"
}

# the profile directory: the release's abi, tunables and abstractions
mkdir -p $D /usr/local/bin
for d in abi tunables abstractions; do
	[ -e "/etc/apparmor.d/$d" ] && cp -a "/etc/apparmor.d/$d" $D/
done
echo hello >/etc/aa-demo.conf
printf '#!/bin/sh\nread -r line </etc/aa-demo.conf\necho "$line" >/tmp/aa-demo.out\n' >$P
chmod 755 $P
rm -f /tmp/aa-demo.out

# 1. starting profile, complain mode, one run
run genprof-run $A genprof --profile-dir $D --json --run $P
run genprof-run-mode sh -c "grep -lx -- $P /sys/kernel/security/apparmor/policy/profiles/*/name | sed 's,/name\$,/mode,' | xargs cat"
fence aa-demo-fence-1

# 2. the plan from the ring buffer, answered by the shell, applied; enforce
run genprof-plan $A triage kernel --profile-dir $D --profile "$P" --json
awk '/"kind": "/ { x = /"kind": "exec"/ }
/"action": null/ { sub(/null/, x ? "\"inherit\"" : "\"allow\"") }
{ print }' "$R/checks/genprof-plan/stdout" >/tmp/gp-answers.json
run genprof-apply $A triage kernel --profile-dir $D --profile "$P" --answers /tmp/gp-answers.json --set-mode enforce
run genprof-profile cat $D/usr.local.bin.aa-demo
run genprof-mode sh -c "grep -lx -- $P /sys/kernel/security/apparmor/policy/profiles/*/name | sed 's,/name\$,/mode,' | xargs cat"

# 3. the program under the enforce-mode profile
rm -f /tmp/aa-demo.out
run genprof-enforced $P
run genprof-enforced-out cat /tmp/aa-demo.out
fence aa-demo-fence-2
run genprof-dmesg dmesg
RUN_TIMEOUT=45
