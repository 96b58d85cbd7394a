#include <catch2/catch.hpp>

#include <map>

#include "sidecar/cgroup_memory.hpp"

using namespace healthgate::sidecar;

namespace {

// A cgroup v2 container with a private cgroup namespace (containerd default).
constexpr const char* k_v2_cgroup = "0::/\n";
constexpr const char* k_v2_mountinfo =
    "1200 1100 0:120 / / rw,relatime master:500 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
    "1210 1200 0:125 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot\n";

// A cgroup v1 container without a cgroup namespace (Docker on an old host):
// the mount shows only the container's own cgroup.
constexpr const char* k_v1_cgroup =
    "12:pids:/kubepods/burstable/pod1/abc\n"
    "4:memory:/kubepods/burstable/pod1/abc\n"
    "3:cpu,cpuacct:/kubepods/burstable/pod1/abc\n"
    "0::/kubepods/burstable/pod1/abc\n";
constexpr const char* k_v1_mountinfo =
    "700 690 0:50 /kubepods/burstable/pod1/abc /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime master:20 - cgroup "
    "cgroup rw,memory\n"
    "701 690 0:51 /kubepods/burstable/pod1/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n";

// A hybrid host (systemd): v2 unified without controllers plus v1 memory.
constexpr const char* k_hybrid_cgroup = "4:memory:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n";
constexpr const char* k_hybrid_mountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

}  // namespace

TEST_CASE("proc cgroup lines") {
    auto entries = parse_proc_cgroup(k_v1_cgroup);
    REQUIRE(entries.size() == 4);
    CHECK(entries[1].hierarchy == 4);
    CHECK(entries[1].controllers == std::vector<std::string>{"memory"});
    CHECK(entries[1].path == "/kubepods/burstable/pod1/abc");
    CHECK(entries[2].controllers == std::vector<std::string>{"cpu", "cpuacct"});
    CHECK(entries[3].hierarchy == 0);
    CHECK(entries[3].controllers.empty());
    CHECK(parse_proc_cgroup("garbage\n\n1:x\n").empty());
}

TEST_CASE("mountinfo lines, with optional fields and octal escapes") {
    auto mounts = parse_mountinfo(k_v1_mountinfo);
    REQUIRE(mounts.size() == 2);
    CHECK(mounts[0].root == "/kubepods/burstable/pod1/abc");
    CHECK(mounts[0].mount_point == "/sys/fs/cgroup/memory");
    CHECK(mounts[0].fs_type == "cgroup");
    CHECK(mounts[0].super_options == "rw,memory");
    auto spaced = parse_mountinfo("36 35 98:0 / /mnt/with\\040space rw - cgroup2 none rw\n");
    REQUIRE(spaced.size() == 1);
    CHECK(spaced[0].mount_point == "/mnt/with space");
    CHECK(parse_mountinfo("too short\n").empty());
}

TEST_CASE("memory cgroup: v2 with a cgroup namespace is the mount point") {
    auto candidates = memory_cgroup_candidates(parse_proc_cgroup(k_v2_cgroup), parse_mountinfo(k_v2_mountinfo));
    REQUIRE_FALSE(candidates.empty());
    CHECK(candidates[0].version == CgroupVersion::v2);
    CHECK(candidates[0].dir == "/sys/fs/cgroup");
}

TEST_CASE("memory cgroup: v1 mount rooted at the container's own cgroup") {
    auto candidates = memory_cgroup_candidates(parse_proc_cgroup(k_v1_cgroup), parse_mountinfo(k_v1_mountinfo));
    bool found = false;
    for (const auto& c : candidates) {
        if (c.version == CgroupVersion::v1) {
            CHECK(c.dir == "/sys/fs/cgroup/memory");
            found = true;
            break;
        }
    }
    CHECK(found);
}

TEST_CASE("memory cgroup: hybrid host lists v2 first, then the v1 memory path") {
    auto candidates = memory_cgroup_candidates(parse_proc_cgroup(k_hybrid_cgroup), parse_mountinfo(k_hybrid_mountinfo));
    REQUIRE(candidates.size() >= 2);
    CHECK(candidates[0].version == CgroupVersion::v2);
    CHECK(candidates[0].dir == "/sys/fs/cgroup/unified/user.slice/session-1.scope");
    bool v1 = false;
    for (const auto& c : candidates) {
        if (c.version == CgroupVersion::v1 && c.dir == "/sys/fs/cgroup/memory/user.slice/session-1.scope") v1 = true;
    }
    CHECK(v1);
}

TEST_CASE("memory cgroup: nothing without a matching mount") {
    CHECK(memory_cgroup_candidates(parse_proc_cgroup(k_v1_cgroup), {}).empty());
}

TEST_CASE("v2 files: memory.max, memory.peak, memory.events") {
    auto unlimited = parse_limit("max\n");
    REQUIRE(unlimited.ok());
    CHECK_FALSE(unlimited->has_value());
    auto limit = parse_limit("536870912\n");
    REQUIRE(limit.ok());
    CHECK(**limit == 536870912u);
    CHECK(*parse_counter("536641536\n") == 536641536u);
    CHECK_FALSE(parse_counter("12k").ok());
    CHECK_FALSE(parse_counter("").ok());

    auto events = parse_memory_events("low 0\nhigh 0\nmax 112\noom 3\noom_kill 2\noom_group_kill 1\n");
    REQUIRE(events.ok());
    CHECK(events->oom == 3);
    CHECK(events->oom_kill == 2);
    CHECK(events->oom_group_kill == 1);
    // Kernels before 5.17 have no oom_group_kill line.
    auto older = parse_memory_events("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
    REQUIRE(older.ok());
    CHECK(older->oom_group_kill == 0);
    CHECK_FALSE(parse_memory_events("low 0\n").ok());
}

TEST_CASE("v1 files: limit_in_bytes, oom_control") {
    auto unlimited = parse_limit("9223372036854771712\n");
    REQUIRE(unlimited.ok());
    CHECK_FALSE(unlimited->has_value());
    auto control = parse_oom_control("oom_kill_disable 0\nunder_oom 1\noom_kill 4\n");
    REQUIRE(control.ok());
    CHECK_FALSE(control->oom_kill_disable);
    CHECK(control->under_oom);
    CHECK(control->oom_kill == 4u);
    auto old_kernel = parse_oom_control("oom_kill_disable 1\nunder_oom 0\n");
    REQUIRE(old_kernel.ok());
    CHECK(old_kernel->oom_kill_disable);
    CHECK_FALSE(old_kernel->oom_kill.has_value());
    CHECK_FALSE(parse_oom_control("nonsense").ok());
}

TEST_CASE("key-value lookup and VmHWM") {
    CHECK(find_key_value("cache 10\nrss 20\n", "rss") == 20u);
    CHECK_FALSE(find_key_value("cache 10\n", "rss").has_value());
    CHECK(parse_status_hwm("Name:\tapp\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\n") == 1234u * 1024);
    CHECK_FALSE(parse_status_hwm("Name:\tkthread\n").has_value());
}

TEST_CASE("MemoryMonitor: 'none' means no cgroup, ru_maxrss instead") {
    auto monitor = MemoryMonitor::open(std::string("none"));
    CHECK(monitor.source() == MemorySource::rusage);
    CHECK(monitor.describe().find("ru_maxrss") != std::string::npos);
    auto sample = monitor.sample(0);
    CHECK_FALSE(sample.oom_kills.has_value());
}

namespace {

// A cgroup tree as files: path -> text.
using Tree = std::map<std::string, std::string>;
std::optional<std::string> read_tree(const std::string& path, void* context) {
    const Tree& tree = *static_cast<const Tree*>(context);
    auto it = tree.find(path);
    if (it == tree.end()) return std::nullopt;
    return it->second;
}

}  // namespace

TEST_CASE("effective limit: pod-level limit above a container without one") {
    Tree tree{{"/sys/fs/cgroup/cgroup.controllers", "memory"},
              {"/sys/fs/cgroup/kubepods/cgroup.controllers", "memory"},
              {"/sys/fs/cgroup/kubepods/memory.max", "8000000000\n"},
              {"/sys/fs/cgroup/kubepods/pod1/cgroup.controllers", "memory"},
              {"/sys/fs/cgroup/kubepods/pod1/memory.max", "67108864\n"},
              {"/sys/fs/cgroup/kubepods/pod1/memory.high", "max\n"},
              {"/sys/fs/cgroup/kubepods/pod1/abc/cgroup.controllers", ""},
              {"/sys/fs/cgroup/kubepods/pod1/abc/memory.max", "max\n"},
              {"/sys/fs/cgroup/kubepods/pod1/abc/memory.high", "33554432\n"}};
    auto levels = walk_cgroup_levels(CgroupVersion::v2, "/sys/fs/cgroup/kubepods/pod1/abc", read_tree, &tree);
    REQUIRE(levels.size() == 4);  // up to the mount's root, which has no memory.max
    CHECK(levels[3].dir == "/sys/fs/cgroup");
    CHECK_FALSE(levels[3].max.has_value());
    const CgroupLevel* limit = tightest_level(levels, false);
    REQUIRE(limit);
    CHECK(limit->dir == "/sys/fs/cgroup/kubepods/pod1");
    CHECK(limit->depth == 1);
    CHECK(level_name(*limit) == "pod");
    const CgroupLevel* high = tightest_level(levels, true);
    REQUIRE(high);
    CHECK(level_name(*high) == "container");
    CHECK(*high->high == 33554432u);
}

TEST_CASE("effective limit: the container's own limit wins when tighter; ties go to the nearest") {
    Tree tree{{"/sys/fs/cgroup/cgroup.controllers", ""},
              {"/sys/fs/cgroup/memory.max", "67108864\n"},  // a namespace root: the container itself
              {"/sys/fs/cgroup/c/cgroup.controllers", ""},
              {"/sys/fs/cgroup/c/memory.max", "67108864\n"}};
    auto levels = walk_cgroup_levels(CgroupVersion::v2, "/sys/fs/cgroup/c", read_tree, &tree);
    REQUIRE(levels.size() == 2);
    CHECK(tightest_level(levels, false)->depth == 0);
    CHECK(tightest_level(levels, true) == nullptr);
    // Above the mount nothing is read: /sys/fs has no cgroup.controllers.
    auto alone = walk_cgroup_levels(CgroupVersion::v2, "/sys/fs/cgroup", read_tree, &tree);
    CHECK(alone.size() == 1);
}

TEST_CASE("effective limit: v1 walks memory.limit_in_bytes") {
    Tree tree{{"/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n"},
              {"/sys/fs/cgroup/memory/kubepods/memory.limit_in_bytes", "9223372036854771712\n"},
              {"/sys/fs/cgroup/memory/kubepods/burstable/memory.limit_in_bytes", "1073741824\n"},
              {"/sys/fs/cgroup/memory/kubepods/burstable/abc/memory.limit_in_bytes", "9223372036854771712\n"}};
    auto levels = walk_cgroup_levels(CgroupVersion::v1, "/sys/fs/cgroup/memory/kubepods/burstable/abc", read_tree, &tree);
    REQUIRE(levels.size() == 4);
    const CgroupLevel* limit = tightest_level(levels, false);
    REQUIRE(limit);
    CHECK(level_name(*limit) == "QoS class burstable");
    CHECK_FALSE(levels[0].high.has_value());
}

TEST_CASE("effective limit: what each level is called") {
    auto named = [](std::string dir, int depth) { return level_name(CgroupLevel{std::move(dir), depth, {}, {}}); };
    CHECK(named("/sys/fs/cgroup/anything", 0) == "container");
    CHECK(named("/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice", 1) == "pod");
    CHECK(named("/sys/fs/cgroup/kubepods.slice", 3) == "node allocatable");
    CHECK(named("/sys/fs/cgroup/kubepods", 2) == "node allocatable");
    CHECK(named("/sys/fs/cgroup/system.slice", 1) == "parent cgroup system.slice");
}

TEST_CASE("memory.pressure and the v2 event counters") {
    auto pressure = parse_pressure("some avg10=12.50 avg60=3.25 avg300=1.00 total=4500000\n"
                                   "full avg10=10.00 avg60=2.00 avg300=0.50 total=3000000\n");
    REQUIRE(pressure.ok());
    CHECK(pressure->some_avg10 == Approx(12.5));
    CHECK(pressure->some_avg60 == Approx(3.25));
    CHECK(pressure->full_avg10 == Approx(10));
    CHECK(pressure->full_total_us == 3000000u);
    CHECK(pressure->some_total_us == 4500000u);
    CHECK_FALSE(parse_pressure("").ok());
    CHECK_FALSE(parse_pressure("some avg10=x avg60=1 total=1\n").ok());

    auto events = parse_memory_events("low 0\nhigh 7\nmax 20\noom 1\noom_kill 1\noom_group_kill 1\n");
    REQUIRE(events.ok());
    CHECK(events->high == 7);
    CHECK(events->max == 20);
}
