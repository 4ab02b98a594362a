# Compiles and loads every Debian profile file in the guest (slow under TCG:
# 60-250 s); used by the `compile` suite to measure it.
RUN_TIMEOUT=900
# shellcheck disable=SC2046
run load-debian-compile apparmor_parser -r $(cat /vm/debian-policy.files)
