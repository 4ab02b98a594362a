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
# 4.1 and 5.0 have upstream 6.0's options: there the reference runs them too.
# Check IDs: aa-status-{ref6,ours6}-NAME.
if [ "$AAVM_RELEASE" != bookworm ]; then
	for a in count count-json show-profiles-json show-processes filter-mixed-json filter-enforce; do
		case "$a" in
		count) set -- --count ;;
		count-json) set -- --count --json ;;
		show-profiles-json) set -- --show=profiles --json ;;
		show-processes) set -- --show=processes ;;
		filter-mixed-json) set -- --filter.mode=mixed --json ;;
		filter-enforce) set -- --filter.mode=enforce --verbose ;;
		esac
		run "aa-status-ref6-$a" /usr/sbin/aa-status "$@"
		[ "$a" = count-json ] || [ "$a" = show-profiles-json ] || [ "$a" = filter-mixed-json ] ||
			run "aa-status-ours6-$a" /opt/ours/aa-status "$@"
	done
fi
