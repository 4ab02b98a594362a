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
run modes-prompt-verify cat $AA/profiles
run modes-default-allow $A mode default_allow --base /tmp/modes/apparmor.d --json vmkill
run modes-default-allow-verify cat $AA/profiles
run modes-unload $A unload --json /tmp/modes/apparmor.d/vmkill
# The audit subsystem's state as aactl reads it from `auditctl -s` on a live
# kernel. The guest has no auditd, so a stand-in prints auditd 3.x's format
# with a `lost` count that grows by 4 at each call.
mkdir -p /tmp/fakeaudit
cat >/tmp/fakeaudit/auditctl <<'EOS'
#!/bin/sh
n=$(cat /tmp/fakeaudit/n 2>/dev/null || echo 0)
echo $((n + 1)) >/tmp/fakeaudit/n
printf 'enabled 1\nfailure 1\npid 0\nrate_limit 0\nbacklog_limit 64\nlost %s\nbacklog 0\nbacklog_wait_time 60000\n' $((5 + n * 4))
EOS
chmod 755 /tmp/fakeaudit/auditctl
run modes-audit-status sh -c 'PATH=/tmp/fakeaudit:$PATH exec /opt/ours/aactl status --json'
run modes-audit-status-text sh -c 'PATH=/tmp/fakeaudit:$PATH exec /opt/ours/aactl status'
run modes-audit-log sh -c 'PATH=/tmp/fakeaudit:$PATH exec /opt/ours/aactl log --format json'
