# Real denials for the triage sample: an enforce and a complain profile.
run load-triage apparmor_parser -r /vm/profiles/triage
mkdir -p /tmp/work /root
echo secret > /root/secret
run triage-enforce sh -c 'echo "exec triage-enforce" > /proc/self/attr/exec && exec /bin/busybox sh -c "cat /root/secret; touch /tmp/work/a; mkdir /tmp/work/d; cat /etc/hostname; chown 1:1 /tmp/work; ls /root; kill -0 1"'
run triage-complain sh -c 'echo "exec triage-complain" > /proc/self/attr/exec && exec /bin/busybox sh -c "cat /root/secret; touch /tmp/work/b; ls /root; cat /root/secret; hostname -F /etc/hostname; mknod /tmp/work/fifo p"'
