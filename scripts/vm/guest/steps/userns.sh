# User namespaces under AppArmor: `unshare -U` under a profile without a
# `userns,` rule (denied on Linux 6.12+ when the profile was compiled with
# userns mediation, allowed on 6.1), and under one with it (4.1+ parsers).
# Check IDs: userns-*. The records are read back with `aactl log kernel`.
echo 0 >/proc/sys/kernel/printk_ratelimit
run userns-features cat /sys/kernel/security/apparmor/features/namespaces/mask
run userns-load apparmor_parser -r /vm/profiles/vmuserns
run userns-deny sh -c 'echo "exec vmuserns-deny" >/proc/self/attr/exec && exec /bin/busybox unshare -U /bin/busybox true'
run userns-unconfined /bin/busybox unshare -U /bin/busybox true
if [ "$AAVM_RELEASE" != bookworm ]; then
	run userns-load-allow apparmor_parser -r /vm/profiles/vmuserns-allow
	run userns-allow sh -c 'echo "exec vmuserns-allow" >/proc/self/attr/exec && exec /bin/busybox unshare -U /bin/busybox true'
	_n=0
	while [ "$_n" -lt 100 ]; do
		case "$(dmesg)" in *'operation="userns_create"'*) break ;; esac
		_n=$((_n + 1))
		sleep 0.1
	done
fi
run userns-dmesg dmesg
run userns-log /opt/ours/aactl log kernel --format json
run userns-log-suggest /opt/ours/aactl log kernel --suggest
