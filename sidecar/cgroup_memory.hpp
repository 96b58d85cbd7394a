#pragma once
// Memory figures of the container's cgroup: peak, limit and the OOM-kill
// counter, from cgroup v2 (memory.peak, memory.max, memory.events) or v1
// (memory.max_usage_in_bytes, memory.limit_in_bytes, memory.oom_control).
// The parsers are pure (tested on sample text); MemoryMonitor does the I/O.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "common/expected.hpp"

namespace healthgate::sidecar {

// One line of /proc/self/cgroup: "4:memory:/kubepods/pod1/abc" or "0::/".
struct CgroupEntry {
    int hierarchy = 0;
    std::vector<std::string> controllers;
    std::string path;
};
std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text);

// The parts of a /proc/self/mountinfo line that locate a cgroup mount.
struct MountEntry {
    std::string root;           // the directory of the mounted filesystem shown there
    std::string mount_point;
    std::string fs_type;        // "cgroup" or "cgroup2"
    std::string super_options;  // v1: lists the controllers ("rw,memory")
};
std::vector<MountEntry> parse_mountinfo(std::string_view text);

enum class CgroupVersion { v1, v2 };

struct CgroupDir {
    CgroupVersion version;
    std::string dir;
};

// Where this process's memory cgroup should be, best first (v2, then v1).
// The cgroup path is taken relative to the mount's root: inside a container
// the mount shows only the container's own cgroup (root == path, or "/" with a
// cgroup namespace). The caller checks which candidate has readable files.
std::vector<CgroupDir> memory_cgroup_candidates(const std::vector<CgroupEntry>& cgroups,
                                                const std::vector<MountEntry>& mounts);

// "123\n" -> 123.
Expected<std::uint64_t> parse_counter(std::string_view text);
// memory.max / memory.limit_in_bytes: nullopt when unlimited ("max", or v1's
// page-counter maximum 9223372036854771712 and anything near it).
Expected<std::optional<std::uint64_t>> parse_limit(std::string_view text);

// "key value" lines (memory.events, memory.oom_control, memory.stat).
std::optional<std::uint64_t> find_key_value(std::string_view text, std::string_view key);

struct MemoryEvents {  // cgroup v2 memory.events
    std::uint64_t high = 0;            // usage went over memory.high (throttled)
    std::uint64_t max = 0;             // usage reached memory.max (reclaim ran)
    std::uint64_t oom = 0;             // the limit was hit and reclaim failed
    std::uint64_t oom_kill = 0;        // processes killed by the OOM killer
    std::uint64_t oom_group_kill = 0;  // whole-cgroup kills (memory.oom.group)
};
Expected<MemoryEvents> parse_memory_events(std::string_view text);

struct OomControl {  // cgroup v1 memory.oom_control
    bool oom_kill_disable = false;
    bool under_oom = false;
    std::optional<std::uint64_t> oom_kill;  // kernels >= 4.13
};
Expected<OomControl> parse_oom_control(std::string_view text);

// PSI figures of memory.pressure ("some avg10=1.00 avg60=0.50 avg300=0.10 total=12").
struct Pressure {
    double some_avg10 = 0, some_avg60 = 0;
    double full_avg10 = 0, full_avg60 = 0;
    std::uint64_t some_total_us = 0, full_total_us = 0;  // stall time since the cgroup was made
};
Expected<Pressure> parse_pressure(std::string_view text);

// One cgroup on the way from the container's own cgroup up to the root
// visible to us (the mount point: with a cgroup namespace, the container's
// cgroup itself). depth 0 is the container's cgroup.
struct CgroupLevel {
    std::string dir;
    int depth = 0;
    std::optional<std::uint64_t> max;   // memory.max / memory.limit_in_bytes; nullopt: none
    std::optional<std::uint64_t> high;  // memory.high (v2)
};
// Reads a file's text; nullopt when it cannot be read (injected in tests).
using ReadFile = std::optional<std::string> (*)(const std::string& path, void* context);
// Walks up from `leaf` while the parent is still a cgroup of the same
// hierarchy (it has cgroup.controllers on v2, memory.limit_in_bytes on v1).
std::vector<CgroupLevel> walk_cgroup_levels(CgroupVersion version, const std::string& leaf, ReadFile read,
                                            void* context);
// The level with the tightest memory.max (or memory.high with `high`); the
// nearest one wins a tie. nullptr when no level sets one.
const CgroupLevel* tightest_level(const std::vector<CgroupLevel>& levels, bool high);
// What a limit's level is to a user: "container" (depth 0), "pod" (a pod's
// cgroup, or the parent of a container's cgroup that is not a kubepods QoS
// level), "node allocatable" (kubepods itself), else "parent cgroup NAME".
std::string level_name(const CgroupLevel& level);

// "VmHWM:   1234 kB" from /proc/PID/status, in bytes.
std::optional<std::uint64_t> parse_status_hwm(std::string_view text);

// One reading. Every figure is optional: a file may be missing or unreadable.
struct MemorySample {
    std::optional<std::uint64_t> peak;
    std::optional<std::uint64_t> current;
    std::optional<std::uint64_t> limit;  // nullopt with limit_known: unlimited
    bool limit_known = false;
    std::optional<std::uint64_t> oom_kills;
    // cgroup v2 only:
    std::optional<MemoryEvents> events;        // the container's own memory.events
    std::optional<MemoryEvents> limit_events;  // memory.events where the limit is (max, oom rise there)
    std::optional<std::uint64_t> high;         // tightest memory.high
    std::optional<Pressure> pressure;          // the container's memory.pressure
    std::optional<std::uint64_t> swap;         // memory.swap.current
};

enum class MemorySource { cgroup_v2, cgroup_v1, rusage };

// Reads the memory cgroup with files kept open (a sample costs a few preads).
// Without a readable memory cgroup it falls back to the app's VmHWM while it
// runs and, after it exits, the children's ru_maxrss (set by the caller).
class MemoryMonitor {
public:
    // `override_dir`: a cgroup directory given by the user ("none": no cgroup).
    static MemoryMonitor open(const std::optional<std::string>& override_dir);
    MemoryMonitor(MemoryMonitor&& other) noexcept;
    MemoryMonitor& operator=(MemoryMonitor&&) = delete;
    MemoryMonitor(const MemoryMonitor&) = delete;
    ~MemoryMonitor();

    // `app` is read for VmHWM when there is no cgroup (0: not running).
    MemorySample sample(pid_t app);
    MemorySource source() const { return source_; }
    // "cgroup v1 /sys/fs/cgroup/memory/kubepods/..." or "ru_maxrss (...)".
    std::string describe() const;
    // v2 without memory.peak (kernel < 5.19): the peak is the highest sampled memory.current.
    bool peak_is_sampled() const { return peak_sampled_; }
    // The container's own cgroup directory ("" without a cgroup).
    const std::string& dir() const { return dir_; }
    // Where the effective limit / memory.high was found; empty: none.
    const std::optional<CgroupLevel>& limit_level() const { return limit_level_; }
    const std::optional<CgroupLevel>& high_level() const { return high_level_; }
    // memory.oom.group of the container's cgroup, read at start (v2).
    std::optional<bool> oom_group() const { return oom_group_; }
    // The memory.events files worth watching for changes (v2).
    std::vector<std::string> events_paths() const;

private:
    MemoryMonitor() = default;
    void open_levels(CgroupVersion version);
    MemorySource source_ = MemorySource::rusage;
    std::string dir_;
    int peak_fd_ = -1, current_fd_ = -1, limit_fd_ = -1, events_fd_ = -1;
    int limit_events_fd_ = -1, high_fd_ = -1, pressure_fd_ = -1, swap_fd_ = -1;
    std::optional<CgroupLevel> limit_level_, high_level_;
    std::optional<bool> oom_group_;
    bool peak_sampled_ = false;
    std::uint64_t sampled_max_ = 0;
    static constexpr std::chrono::milliseconds k_slow_figures_every{200};
    MemorySample slow_;  // limit, high, pressure, swap as last read
    std::optional<std::chrono::steady_clock::time_point> slow_read_at_;
};

}  // namespace healthgate::sidecar
