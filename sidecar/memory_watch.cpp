#include "sidecar/memory_watch.hpp"

#include <cerrno>
#include <sys/inotify.h>
#include <unistd.h>

namespace healthgate::sidecar {

Duration sample_interval_for(Duration configured, std::optional<UsagePoint> previous, std::optional<UsagePoint> latest,
                             std::optional<std::uint64_t> limit) {
    if (!latest || !limit || *limit == 0) return configured;
    Duration interval = std::min(configured, std::max(latest->at, k_near_limit_interval));
    long double share = static_cast<long double>(latest->usage) / static_cast<long double>(*limit);
    if (share >= 0.90L) interval = std::min(interval, k_near_limit_interval);
    else if (share >= 0.75L) interval = std::min(interval, k_approach_interval);
    if (previous && latest->usage > previous->usage && latest->at > previous->at) {
        long double per_ms = static_cast<long double>(latest->usage - previous->usage) /
                             static_cast<long double>((latest->at - previous->at).count());
        long double left = latest->usage < *limit ? static_cast<long double>(*limit - latest->usage) : 0.0L;
        long double half_eta = left / per_ms / 2.0L;
        if (half_eta < static_cast<long double>(interval.count())) {
            interval = std::max(k_shortest_interval, Duration{static_cast<Duration::rep>(half_eta)});
        }
    }
    return interval;
}

namespace {

std::uint64_t rise(std::uint64_t now, std::uint64_t then) { return now > then ? now - then : 0; }

}  // namespace

bool MemoryEventLog::observe(const MemorySample& sample, Duration now) {
    last_at_ = now;
    if (sample.current) {
        previous_usage_ = latest_usage_;
        latest_usage_ = UsagePoint{*sample.current, now};
    }
    if (sample.pressure && (!worst_ || sample.pressure->some_avg10 > worst_->some_avg10)) {
        worst_ = sample.pressure;
        worst_at_ = now;
    }
    bool urgent = false, counters = false;
    if (sample.events) {
        if (!baseline_) baseline_ = sample.events;
        if (last_) {
            urgent = sample.events->oom_kill > last_->oom_kill;
            counters = sample.events->high > last_->high;
        }
        last_ = sample.events;
    }
    if (sample.limit_events) {
        if (!baseline_limit_) baseline_limit_ = sample.limit_events;
        if (last_limit_) {
            const MemoryEvents& now_events = *sample.limit_events;
            urgent = urgent || now_events.oom > last_limit_->oom;
            counters = counters || now_events.max > last_limit_->max || now_events.high > last_limit_->high;
        }
        last_limit_ = sample.limit_events;
    }
    if (!urgent && !(counters && (!counters_recorded_at_ || now - *counters_recorded_at_ >= k_counter_record_gap))) {
        return false;
    }
    if (counters) counters_recorded_at_ = now;
    return true;
}

std::optional<MemoryEvents> MemoryEventLog::since_start(const MemorySample& latest) const {
    if (!baseline_ || !baseline_limit_) return std::nullopt;
    const MemoryEvents& own = latest.events ? *latest.events : *last_;
    const MemoryEvents& at_limit = latest.limit_events ? *latest.limit_events : *last_limit_;
    MemoryEvents events;
    events.max = rise(at_limit.max, baseline_limit_->max);
    events.oom = rise(at_limit.oom, baseline_limit_->oom);
    events.high = std::max(rise(at_limit.high, baseline_limit_->high), rise(own.high, baseline_->high));
    events.oom_kill = rise(own.oom_kill, baseline_->oom_kill);
    events.oom_group_kill = rise(own.oom_group_kill, baseline_->oom_group_kill);
    return events;
}

MemoryWatch::MemoryWatch(const MemoryMonitor& monitor) : monitor_(monitor) {
    auto paths = monitor.events_paths();
    if (paths.empty()) return;
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return;  // sampling alone still sees the events, later
    for (const std::string& path : paths) ::inotify_add_watch(fd_, path.c_str(), IN_MODIFY);
}

MemoryWatch::~MemoryWatch() {
    if (fd_ >= 0) ::close(fd_);
}

void MemoryWatch::drain() {
    alignas(inotify_event) char buffer[1024];
    while (::read(fd_, buffer, sizeof buffer) > 0) {
    }
}

void MemoryWatch::fill(MemoryFacts& memory, const MemorySample& sample) const {
    const auto& limit = monitor_.limit_level();
    // On v1 a limit on the container's own cgroup is the only case there was,
    // and the record keeps its wording; elsewhere the limit is named.
    if (limit && (monitor_.source() == MemorySource::cgroup_v2 || limit->depth > 0)) {
        memory.limit_origin = level_name(*limit);
        memory.limit_dir = limit->dir;
    }
    if (const auto& high = monitor_.high_level(); high && sample.high) {
        memory.high = sample.high;
        memory.high_origin = level_name(*high);
    }
    memory.oom_group = monitor_.oom_group();
    memory.events = log_.since_start(sample);
    memory.pressure = sample.pressure;
    memory.worst_pressure = log_.worst_pressure();
    memory.worst_pressure_at = log_.worst_at();
    if (sample.swap && *sample.swap > 0) memory.swap = sample.swap;
    memory.sampled_at = log_.last_sample_at();
}

}  // namespace healthgate::sidecar
