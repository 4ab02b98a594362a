# aactl inspection commands on the live kernel, and on a snapshot taken by
# `aactl snapshot`. Check IDs: aactl-NAME.
run aactl-status /opt/ours/aactl status
run aactl-status-json /opt/ours/aactl status --json
run aactl-ps /opt/ours/aactl ps
run aactl-ps-json /opt/ours/aactl ps --json
run aactl-snapshot /opt/ours/aactl snapshot /tmp/snap
run aactl-root-status /opt/ours/aactl --root /tmp/snap status
run aactl-root-status-json /opt/ours/aactl --root /tmp/snap status --json
run aactl-root-ps /opt/ours/aactl --root /tmp/snap ps
run aactl-root-ps-json /opt/ours/aactl --root /tmp/snap ps --json
# The PIDs alive after the snapshot: a kernel thread (an idle kworker is
# reaped after 5 min) that ended between the live reads and the snapshot is
# left out of the live/snapshot comparison.
run aactl-pids-after ls /proc
