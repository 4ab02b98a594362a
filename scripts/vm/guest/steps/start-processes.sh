# Starts long-running processes (busybox sleep) under various labels by
# writing "exec LABEL" to /proc/self/attr/exec before exec. Each start is a
# check (start-LABELNAME) whose stdout is the pid; its attr is read back.
start_confined() {
	_id="$1"
	_label="$2"
	(
		echo "exec $_label" >/proc/self/attr/exec || exit 1
		exec sleep 100000
	) &
	_pid=$!
	echo "$_pid" >"$R/notes/pid-$_id"
}
start_confined enforce vmtest-enforce
start_confined complain vmtest-complain
start_confined kill vmtest-kill
start_confined unconfined-mode vmtest-unconfined
start_confined space "vmtest with space"
start_confined hat "vmtest-hat//sub"
start_confined stack "vmtest-enforce//&vmtest-complain"
start_confined stack-same "vmtest-enforce//&vmtest-hat"
start_confined ns ":vmns:vmtest-ns"
start_confined ns-stack "vmtest-enforce//&:vmns:vmtest-ns-complain"
start_confined debian-complain nscd
# Unconfined, but a profile named like its exe is loaded afterwards.
ln /bin/busybox /usr/bin/busybox-vmtest
/usr/bin/busybox-vmtest sleep 100000 &
echo $! >"$R/notes/pid-unconfined-with-profile"
# Plain unconfined ones.
sleep 100000 &
echo $! >"$R/notes/pid-unconfined"
# Every one has exec'd (its label is the one exec gave it) before the late
# profile loads and before the labels are read: a condition, not a guess at
# how long forks take under TCG.
for f in "$R"/notes/pid-*; do
	case "$f" in
	*/pid-unconfined-with-profile) wait_exec "$(cat "$f")" busybox-vmtest ;;
	*) wait_exec "$(cat "$f")" sleep ;;
	esac
done
run load-vmtest-late apparmor_parser -r /vm/profiles/vmtest-late
# Read back every started process's label.
for f in "$R"/notes/pid-*; do
	p=$(cat "$f")
	n=${f##*/pid-}
	run "label-$n" cat "/proc/$p/attr/current"
done
