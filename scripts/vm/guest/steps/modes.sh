# Profile modes on the live kernel: `aactl kill` switches an enforce profile
# to kill mode and reloads it; a read no rule allows then kills the task and
# the kernel logs it as KILLED. `aactl prompt` is refused where the guest's
# parser (3.0.8) does not know the flag. Check IDs: modes-*.
A=/opt/ours/aactl
AA=/sys/kernel/security/apparmor
echo 0 >/proc/sys/kernel/printk_ratelimit
mkdir -p /tmp/modes/apparmor.d /tmp/vmkill
cp /vm/profiles/vmkill /tmp/modes/apparmor.d/vmkill
echo secret >/tmp/vmkill/secret
run modes-load $A load --base /tmp/modes/apparmor.d --json /tmp/modes/apparmor.d/vmkill
run modes-kill $A kill --base /tmp/modes/apparmor.d --json vmkill
run modes-kill-file cat /tmp/modes/apparmor.d/vmkill
run modes-kill-verify cat $AA/profiles
run modes-kill-status $A status --json
run modes-kill-denied sh -c 'echo "exec vmkill" >/proc/self/attr/exec && exec /bin/busybox cat /tmp/vmkill/secret'
_n=0
while [ "$_n" -lt 100 ]; do
	case "$(dmesg)" in *'apparmor="KILLED"'*) break ;; esac
	_n=$((_n + 1))
	sleep 0.1
done
note modes-dmesg-wait-polls "$_n"
run modes-dmesg dmesg
run modes-log $A log kernel --format json
# Back to enforce: the same read is denied, the task lives to report it.
run modes-enforce $A enforce --base /tmp/modes/apparmor.d --json vmkill
run modes-enforce-verify cat $AA/profiles
run modes-enforce-denied sh -c 'echo "exec vmkill" >/proc/self/attr/exec && exec /bin/busybox cat /tmp/vmkill/secret'
# The release gate, with the guest's own parser answering for its release.
run modes-prompt $A prompt --base /tmp/modes/apparmor.d --json vmkill
run modes-prompt-file cat /tmp/modes/apparmor.d/vmkill
run modes-unload $A unload --json /tmp/modes/apparmor.d/vmkill
