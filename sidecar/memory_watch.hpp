#pragma once
// Watching the memory cgroup closely enough that the "still running" record
// is already right when a group OOM kill (memory.oom.group=1) takes
// healthgate along with the app: memory.events is followed with inotify (the
// kernel signals each change of the file), and sampling speeds up near the
// limit. The rules (interval, what counts as a rise, worst pressure) are pure;
// MemoryWatch adds the inotify descriptor.
#include <optional>

#include "common/duration.hpp"
#include "sidecar/cgroup_memory.hpp"
#include "sidecar/verdict.hpp"

namespace healthgate::sidecar {

constexpr Duration k_near_limit_interval{10};   // usage above 90% of the limit
constexpr Duration k_approach_interval{50};     // usage above 75% of the limit
constexpr Duration k_shortest_interval{1};

struct UsagePoint {
    std::uint64_t usage = 0;  // memory.current where the limit is
    Duration at{0};           // since the app started
};

// The next sampling interval: the configured one, shortened
//   - while the app is young (never longer than it has run, 10 ms at least),
//     so a fast start is seen growing;
//   - near the limit (50 ms above 75%, 10 ms above 90%);
//   - while usage grows: half the time it would take at the last rate to
//     reach the limit (1 ms at least), so the last sample before an OOM kill
//     is close to the limit however fast the app allocates.
Duration sample_interval_for(Duration configured, std::optional<UsagePoint> previous, std::optional<UsagePoint> latest,
                             std::optional<std::uint64_t> limit);

// What the samples of memory.events and memory.pressure add up to.
class MemoryEventLog {
public:
    // Whether the record should be rewritten now: at once when oom or
    // oom_kill rose, or when max or high first rose; further rises of max and
    // high (an app living at its limit on page cache) once per
    // k_counter_record_gap at most.
    static constexpr Duration k_counter_record_gap{1000};
    bool observe(const MemorySample& sample, Duration now);
    // Rises since the first sample: max, high, oom where the limit is;
    // oom_kill, oom_group_kill in the container's own cgroup.
    std::optional<MemoryEvents> since_start(const MemorySample& latest) const;
    const std::optional<Pressure>& worst_pressure() const { return worst_; }
    Duration worst_at() const { return worst_at_; }
    Duration last_sample_at() const { return last_at_; }
    const std::optional<UsagePoint>& previous_usage() const { return previous_usage_; }
    const std::optional<UsagePoint>& latest_usage() const { return latest_usage_; }

private:
    std::optional<MemoryEvents> baseline_, baseline_limit_;
    std::optional<MemoryEvents> last_, last_limit_;
    std::optional<Pressure> worst_;
    Duration worst_at_{0};
    Duration last_at_{0};
    std::optional<Duration> counters_recorded_at_;
    std::optional<UsagePoint> previous_usage_, latest_usage_;
};

class MemoryWatch {
public:
    explicit MemoryWatch(const MemoryMonitor& monitor);
    MemoryWatch(const MemoryWatch&) = delete;
    MemoryWatch& operator=(const MemoryWatch&) = delete;
    ~MemoryWatch();

    // Readable when a watched memory.events changed; -1 without one.
    int fd() const { return fd_; }
    void drain();
    bool observe(const MemorySample& sample, Duration now) { return log_.observe(sample, now); }
    Duration interval(Duration configured, const MemorySample& sample) const {
        return sample_interval_for(configured, log_.previous_usage(), log_.latest_usage(), sample.limit);
    }
    // Adds what cgroup v2 knows to `memory` (sampled from `sample`).
    void fill(MemoryFacts& memory, const MemorySample& sample) const;

private:
    const MemoryMonitor& monitor_;
    MemoryEventLog log_;
    int fd_ = -1;
};

}  // namespace healthgate::sidecar
