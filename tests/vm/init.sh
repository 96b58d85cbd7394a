#!/bin/sh
# PID 1 of the test VM (busybox sh): mounts cgroup2 with the memory
# controller, runs each scenario named in /scenarios under healthgate in its
# own cgroup, prints healthgate's record next to the kernel's own counters,
# and powers off. test_vm.py parses what this prints on the serial console.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t cgroup2 none /sys/fs/cgroup
CG=/sys/fs/cgroup
echo +memory > $CG/cgroup.subtree_control
echo 1 > /proc/sys/kernel/printk  # the kernel's OOM report is read with dmesg, not interleaved

# limit DIR MAX OOM_GROUP [HIGH]: a cgroup as the kubelet makes a container's
limit() {
    mkdir -p $CG/$1
    echo $2 > $CG/$1/memory.max
    echo 0 > $CG/$1/memory.swap.max
    echo $3 > $CG/$1/memory.oom.group
    [ -z "$4" ] || echo $4 > $CG/$1/memory.high
}
parent() { mkdir -p $CG/$1; echo $2 > $CG/$1/memory.max; echo +memory > $CG/$1/cgroup.subtree_control; }

# hg NAME DIR ARGS...: healthgate run as a process of cgroup DIR
hg() {
    name=$1 dir=$2
    shift 2
    sh -c 'echo $$ > '$CG/$dir'/cgroup.procs; exec "$@"' sh \
        healthgate run --termination-log /tmp/$name.log --sample-interval 250ms "$@"
}

# report NAME LIMIT_DIR CONTAINER_DIR EXIT
report() {
    echo "--- exit $4"
    echo "--- kernel $2 memory.peak $(cat $CG/$2/memory.peak)"
    echo "--- kernel $2 memory.max $(cat $CG/$2/memory.max)"
    echo "--- kernel $2 memory.events"
    sed 's/^/| /' $CG/$2/memory.events
    echo "--- kernel $3 memory.events"
    sed 's/^/| /' $CG/$3/memory.events
    echo "--- kernel log"
    dmesg -c | grep -E 'oom-kill:|Killed process|Memory cgroup out of memory' | sed 's/^/| /'
    echo "--- record"
    sed 's/^/| /' /tmp/$1.log
    echo
    echo "=== end $1"
}

scenario() {
    name=$1
    echo "=== scenario $name"
    case $name in
    plain_oom*)  # memory.oom.group=0: the app alone is killed, healthgate writes the final record
        limit $name 64M 0
        hg $name $name -- alloc rate 32; report $name $name $name $? ;;
    group_slow*|group_fast*|group_max*)  # memory.oom.group=1: healthgate dies with the app
        case $name in group_slow*) rate=8 ;; group_fast*) rate=32 ;; *) rate=0 ;; esac
        limit $name 64M 1
        hg $name $name -- alloc rate $rate; report $name $name $name $? ;;
    child_oom*)
        limit $name 64M 0
        hg $name $name -- alloc child 32; report $name $name $name $? ;;
    sigkill*)  # from outside, as a liveness probe or the grace period would
        limit $name 64M 1
        hg $name $name -- alloc hold 8 &
        sleep 3
        for pid in $(cat $CG/$name/cgroup.procs); do [ "$(cat /proc/$pid/comm)" != alloc ] || kill -KILL $pid; done
        wait $!; report $name $name $name $? ;;
    pod_level*)  # pod-level resources: the limit on the pod, none on the container
        parent $name 64M
        limit $name/c max 1
        hg $name $name/c -- alloc rate 32; report $name $name $name/c $? ;;
    kubepods*)  # the usual layout: 128M pod, 64M container
        mkdir -p $CG/kubepods; echo +memory > $CG/kubepods/cgroup.subtree_control
        parent kubepods/pod-$name 128M
        limit kubepods/pod-$name/c 64M 1
        hg $name kubepods/pod-$name/c -- alloc rate 32; report $name kubepods/pod-$name/c kubepods/pod-$name/c $? ;;
    pid1_json*)  # what a container sees: PID 1 in its own PID, mount and cgroup namespaces (0::/)
        mkdir -p $CG/kubepods; echo +memory > $CG/kubepods/cgroup.subtree_control
        parent kubepods/pod-$name 128M
        limit kubepods/pod-$name/c 64M 1
        sh -c 'echo $$ > '$CG/kubepods/pod-$name/c'/cgroup.procs; exec nsinit sh -c "
            echo \"--- inside: pid \$\$ cgroup \$(cat /proc/self/cgroup)\"
            exec healthgate run --format json --termination-log /tmp/'$name'.log -- alloc rate 32"'
        report $name kubepods/pod-$name/c kubepods/pod-$name/c $? ;;
    pressure*)  # a squeeze above memory.high, short of the limit: throttling, not a kill
        limit $name 64M 0 32M
        hg $name $name -- alloc squeeze 36; report $name $name $name $? ;;
    *) echo "=== unknown scenario $name" ;;
    esac
}

echo "=== vm up $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
for name in $(cat /scenarios); do scenario $name; done
echo "=== vm done $(cut -d' ' -f1 /proc/uptime)s"
poweroff -f
