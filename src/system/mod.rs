//! The host as a parameter: /proc, /sys/module/apparmor and securityfs under one root.
