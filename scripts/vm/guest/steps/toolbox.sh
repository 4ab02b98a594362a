# aactl exec, aactl unconfined and aactl features on the live kernel.
# Check IDs: toolbox-*. Runs last (it loads profiles).
A=/opt/ours/aactl
run toolbox-load apparmor_parser -r /vm/profiles/vmtoolbox
# the loader step's remove-unknown unloaded the child namespace's profiles
mkdir -p /sys/kernel/security/apparmor/policy/namespaces/vmns 2>/dev/null
run toolbox-load-ns apparmor_parser -r /vm/profiles/vmtest-ns

# exec: the command's own label, changed at exec, at once, stacked, in a
# namespace; a denied write logged against the profile; the errors.
run toolbox-exec $A exec -p vmexec -- cat /proc/self/attr/current
run toolbox-exec-immediate $A exec -i -p vmexec -- cat /proc/self/attr/current
run toolbox-exec-stack $A exec -p vmexec -- $A exec --stack -p vmexec2 -- cat /proc/self/attr/current
run toolbox-exec-ns $A exec -n vmns -p vmtest-ns -- cat /proc/self/attr/current
run toolbox-exec-denied $A exec -p vmexec -- sh -c 'echo x >/tmp/vmexec-denied'
run toolbox-exec-dmesg dmesg
run toolbox-exec-missing $A exec -p vm-no-such-profile -- true
run toolbox-exec-notpermitted $A exec -p vmexec2 -- $A exec -p vmexec -- true
run toolbox-exec-plain $A exec -- cat /proc/self/attr/current
# The library's spawn_under (examples/container_runtime --exec), when built.
if [ -x /opt/ours/container_runtime ]; then
	run toolbox-spawn /opt/ours/container_runtime --exec vmexec -- cat /proc/self/attr/current
fi

# unconfined: busybox nc listening unconfined (listed), under vmnet (not
# listed, but listening: its port is waited for), and one that started before
# the profile attaching to it loaded.
# (busybox runs argv[1] as the applet only when argv[0] starts with "busybox")
ln /bin/busybox /usr/bin/busybox-vmnc-late
nc -l -p 7001 </dev/null >/dev/null 2>&1 &
echo $! >"$R/notes/toolbox-nc-unconfined"
$A exec -p vmnet -- nc -l -p 7002 </dev/null >/dev/null 2>&1 &
echo $! >"$R/notes/toolbox-nc-confined"
/usr/bin/busybox-vmnc-late nc -l -p 7003 </dev/null >/dev/null 2>&1 &
echo $! >"$R/notes/toolbox-nc-late"
# wait (0.1 s steps, up to 60 s) until the three ports listen
_n=0
while [ "$_n" -lt 600 ]; do
	_t="$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)"
	case "$_t" in *:1B59\ *) case "$_t" in *:1B5A\ *) case "$_t" in *:1B5B\ *) break ;; esac ;; esac ;; esac
	_n=$((_n + 1))
	sleep 0.1
done
note toolbox-listen-polls "$_n"
run toolbox-load-late apparmor_parser -r /vm/profiles/vmtoolbox-late
# the kernel reports `<unknown>` for the attachment: the file says it
run toolbox-unconfined $A unconfined --profile-dir /vm/profiles
run toolbox-unconfined-json $A unconfined --profile-dir /vm/profiles --json
run toolbox-unconfined-etc-json $A unconfined --json
run toolbox-unconfined-all-json $A unconfined --all --json
run toolbox-unconfined-paranoid-json $A unconfined --paranoid --json
kill "$(cat "$R/notes/toolbox-nc-unconfined")" "$(cat "$R/notes/toolbox-nc-confined")" "$(cat "$R/notes/toolbox-nc-late")" 2>/dev/null

# features: the kernel's ABI written, then used by the parser to compile.
run toolbox-features-write $A features --write /tmp/features.abi
run toolbox-features-compile sh -c 'apparmor_parser -M /tmp/features.abi -S /vm/profiles/vmtoolbox >/tmp/vmtoolbox.bin && wc -c </tmp/vmtoolbox.bin'
