# The reference aa-status (Debian 3.0.8, /usr/sbin) and ours (/opt/ours) with
# the same arguments. Check IDs: aa-status-{ref,ours}-NAME.
for a in default --json --pretty-json --verbose --enabled --profiled --enforced \
	--complaining --kill --special-unconfined --process-mixed; do
	name=${a#--}
	set --
	[ "$a" = default ] || set -- "$a"
	run "aa-status-ref-$name" /usr/sbin/aa-status "$@"
	run "aa-status-ours-$name" /opt/ours/aa-status "$@"
done
# Options only upstream 6.0 has (ours only; checked against the reference's data).
run aa-status-ours6-count-json /opt/ours/aa-status --count --json
run aa-status-ours6-show-profiles-json /opt/ours/aa-status --show=profiles --json
run aa-status-ours6-filter-mixed-json /opt/ours/aa-status --filter.mode=mixed --json
