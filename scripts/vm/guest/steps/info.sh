# Facts about the kernel's AppArmor interface, recorded before anything loads.
run info-enabled cat /sys/module/apparmor/parameters/enabled
run info-params ls /sys/module/apparmor/parameters
run info-aa-dir ls -a /sys/kernel/security/apparmor
run info-attr-dir ls /proc/self/attr
run info-lsm cat /sys/kernel/security/lsm
