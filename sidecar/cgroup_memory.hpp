#pragma once
// Memory figures of the container's cgroup: peak, limit and the OOM-kill
// counter, from cgroup v2 (memory.peak, memory.max, memory.events) or v1
// (memory.max_usage_in_bytes, memory.limit_in_bytes, memory.oom_control).
// The parsers are pure (tested on sample text); MemoryMonitor does the I/O.
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

// "VmHWM:   1234 kB" from /proc/PID/status, in bytes.
std::optional<std::uint64_t> parse_status_hwm(std::string_view text);

// One reading. Every figure is optional: a file may be missing or unreadable.
struct MemorySample {
    std::optional<std::uint64_t> peak;
    std::optional<std::uint64_t> current;
    std::optional<std::uint64_t> limit;  // nullopt with limit_known: unlimited
    bool limit_known = false;
    std::optional<std::uint64_t> oom_kills;
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

private:
    MemoryMonitor() = default;
    MemorySource source_ = MemorySource::rusage;
    std::string dir_;
    int peak_fd_ = -1, current_fd_ = -1, limit_fd_ = -1, events_fd_ = -1;
    bool peak_sampled_ = false;
    std::uint64_t sampled_max_ = 0;
};

}  // namespace healthgate::sidecar
