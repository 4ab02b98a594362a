# Test profiles: every mode, a name with a space, a hat, a child namespace.
run load-vmtest apparmor_parser -r /vm/profiles/vmtest
run mkdir-ns mkdir /sys/kernel/security/apparmor/policy/namespaces/vmns
run load-vmtest-ns apparmor_parser -r /vm/profiles/vmtest-ns
