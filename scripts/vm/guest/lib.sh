# Helpers for guest steps (sourced by /init; busybox ash).
#
# Every step records results under $R (/results), which the host unpacks:
#   $R/checks/ID/{argv,stdout,stderr,rc,ms}   one command run by `run ID CMD...`
#   $R/notes/KEY                              one fact recorded by `note KEY VALUE`
#   $R/steps/STEP.ms                           wall time of each step
# Step files live in /vm/steps/NAME.sh; a suite (/vm/suites/SUITE) lists step
# names, one a line. To add steps (e.g. loader checks), add a step file and
# list it in a suite; the host test reads the checks it knows by ID.
R=/results
RUN_TIMEOUT=${RUN_TIMEOUT:-45}
mkdir -p "$R/checks" "$R/notes" "$R/steps"

# Milliseconds since boot (from /proc/uptime, 10 ms resolution).
now_ms() {
	read -r up _ </proc/uptime
	echo $((${up%.*} * 1000 + 1${up#*.} * 10 - 1000))
}

# note KEY VALUE...: records a fact.
note() {
	k="$1"
	shift
	printf '%s\n' "$*" >"$R/notes/$k"
}

# run ID CMD [ARG...]: runs CMD, records argv, stdout, stderr, exit code, ms.
run() {
	_id="$1"
	shift
	_d="$R/checks/$_id"
	mkdir -p "$_d"
	printf '%s\n' "$@" >"$_d/argv"
	_t0=$(now_ms)
	# A command that hangs (e.g. a second read() on securityfs `revision`
	# blocks until the policy changes) is killed after $RUN_TIMEOUT seconds;
	# its rc is then 124 and checks/ID/timeout exists.
	timeout -s KILL "$RUN_TIMEOUT" "$@" >"$_d/stdout" 2>"$_d/stderr" </dev/null
	_rc=$?
	_t1=$(now_ms)
	if [ "$_rc" = 137 ] && [ $((_t1 - _t0)) -ge $((RUN_TIMEOUT * 1000)) ]; then
		echo "killed after $RUN_TIMEOUT s" >"$_d/timeout"
		_rc=124
	fi
	echo "$_rc" >"$_d/rc"
	echo $((_t1 - _t0)) >"$_d/ms"
}

# wait_exec PID COMM: waits until process PID has exec'd COMM and sleeps in
# it (then exec is over, and so is the label change that exec makes), polling
# every 0.1 s for up to 60 s; records notes/wait-exec-PID when it never did
# (or when the process died: no stat, or a zombie).
wait_exec() {
	_n=0
	while :; do
		_c="" _s=""
		{ read -r _ _c _s _; } 2>/dev/null <"/proc/$1/stat"
		[ "$_c" = "($2)" ] && [ "$_s" = S ] && return 0
		_n=$((_n + 1))
		if [ -z "$_s" ] || [ "$_s" = Z ] || [ "$_n" -ge 600 ]; then
			note "wait-exec-$1" "pid $1 never slept in $2 (stat: $_c $_s, $_n polls)"
			return 1
		fi
		sleep 0.1
	done
}

step_begin() {
	_step_t0=$(now_ms)
	echo "@@AAVM step $1" >/dev/console
}

step_end() {
	echo $(($(now_ms) - _step_t0)) >"$R/steps/$1.ms"
	echo "@@AAVM step $1 done in $(cat "$R/steps/$1.ms") ms" >/dev/console
}

# Prints $R as a base64 tar.gz between markers on the console.
vm_emit() {
	cd / || return
	# No kernel message on the console from here on (they are in dmesg.txt): a
	# warning printed in the middle of a base64 line would corrupt the archive.
	echo 1 >/proc/sys/kernel/printk 2>/dev/null
	echo "@@AAVM-RESULTS-BEGIN" >/dev/console
	tar -czf - results | base64 >/dev/console
	echo "@@AAVM-RESULTS-END" >/dev/console
}
