#include <catch2/catch.hpp>

#include "sidecar/memory_watch.hpp"

using namespace healthgate::sidecar;
using healthgate::Duration;

namespace {

constexpr std::uint64_t k_mi = 1024 * 1024;

MemorySample with_events(std::uint64_t max, std::uint64_t oom_kill, std::uint64_t high = 0) {
    MemorySample s;
    s.events = MemoryEvents{};
    s.events->oom_kill = oom_kill;
    s.limit_events = MemoryEvents{};
    s.limit_events->max = max;
    s.limit_events->high = high;
    return s;
}

}  // namespace

TEST_CASE("sampling: the configured interval far from the limit, shorter near it") {
    const Duration configured{250};
    auto at = [](std::uint64_t mib, long long ms) { return UsagePoint{mib * k_mi, Duration{ms}}; };
    CHECK(sample_interval_for(configured, std::nullopt, at(10, 5000), 64 * k_mi) == configured);
    CHECK(sample_interval_for(configured, std::nullopt, at(48, 5000), 64 * k_mi) == k_approach_interval);   // 75%
    CHECK(sample_interval_for(configured, std::nullopt, at(58, 5000), 64 * k_mi) == k_near_limit_interval);  // 90.6%
    CHECK(sample_interval_for(configured, std::nullopt, at(64, 5000), 64 * k_mi) == k_near_limit_interval);
    CHECK(sample_interval_for(Duration{5}, std::nullopt, at(64, 5000), 64 * k_mi) == Duration{5});  // never slower
    CHECK(sample_interval_for(configured, std::nullopt, at(64, 5000), std::nullopt) == configured);  // no limit
    CHECK(sample_interval_for(configured, std::nullopt, std::nullopt, 64 * k_mi) == configured);
    CHECK(sample_interval_for(configured, std::nullopt, UsagePoint{~std::uint64_t{0}, Duration{5000}},
                              ~std::uint64_t{0}) == k_near_limit_interval);
    // Steady usage: no rate, the rules above alone.
    CHECK(sample_interval_for(configured, at(10, 4750), at(10, 5000), 64 * k_mi) == configured);
    CHECK(sample_interval_for(configured, at(12, 4750), at(10, 5000), 64 * k_mi) == configured);
}

TEST_CASE("sampling: a young app is sampled at the age it has, 10 ms at least") {
    const Duration configured{250};
    auto young = [&](long long ms) {
        return sample_interval_for(configured, std::nullopt, UsagePoint{k_mi, Duration{ms}}, 64 * k_mi);
    };
    CHECK(young(0) == Duration{10});
    CHECK(young(40) == Duration{40});
    CHECK(young(160) == Duration{160});
    CHECK(young(900) == configured);
}

TEST_CASE("sampling: growing usage is sampled at half the time left to the limit") {
    const Duration configured{250};
    // 16 MiB in 250 ms: 48 MiB left is 750 ms away, not sooner than the configured interval.
    CHECK(sample_interval_for(configured, UsagePoint{0, Duration{1000}}, UsagePoint{16 * k_mi, Duration{1250}},
                              64 * k_mi) == configured);
    // 28 MiB in 250 ms: 20 MiB left, 178 ms away: look again in 89 ms.
    CHECK(sample_interval_for(configured, UsagePoint{16 * k_mi, Duration{1000}}, UsagePoint{44 * k_mi, Duration{1250}},
                              64 * k_mi) == Duration{89});
    // As fast as it can (1.1 GiB/s): 1 ms apart, the shortest.
    CHECK(sample_interval_for(configured, UsagePoint{40 * k_mi, Duration{1000}}, UsagePoint{62 * k_mi, Duration{1020}},
                              64 * k_mi) == k_shortest_interval);
    // At or over the limit and still growing.
    CHECK(sample_interval_for(configured, UsagePoint{60 * k_mi, Duration{1000}}, UsagePoint{65 * k_mi, Duration{1010}},
                              64 * k_mi) == k_shortest_interval);
}

TEST_CASE("memory.events: a rise of max, high, oom or oom_kill asks for a record, counters at most once a second") {
    MemoryEventLog log;
    CHECK_FALSE(log.observe(with_events(5, 1), Duration{0}));  // the baseline
    CHECK_FALSE(log.observe(with_events(5, 1), Duration{10}));
    CHECK(log.observe(with_events(6, 1), Duration{20}));
    CHECK_FALSE(log.observe(with_events(6, 1), Duration{30}));
    CHECK(log.observe(with_events(6, 2), Duration{40}));  // an OOM kill: always at once
    CHECK_FALSE(log.observe(with_events(7, 2), Duration{50}));  // max again within a second: later
    CHECK(log.observe(with_events(8, 2, 1), Duration{1020}));
    auto since = log.since_start(with_events(9, 3, 4));
    REQUIRE(since);
    CHECK(since->max == 4);
    CHECK(since->oom_kill == 2);
    CHECK(since->high == 4);
    CHECK(log.last_sample_at() == Duration{1020});
}

TEST_CASE("memory.events: nothing without cgroup v2") {
    MemoryEventLog log;
    CHECK_FALSE(log.observe(MemorySample{}, Duration{0}));
    CHECK_FALSE(log.observe(MemorySample{}, Duration{10}));
    CHECK_FALSE(log.since_start(MemorySample{}).has_value());
}

TEST_CASE("pressure: the worst moment is the highest some avg10") {
    MemoryEventLog log;
    MemorySample s;
    s.pressure = Pressure{1, 0, 0, 0, 0, 0};
    log.observe(s, Duration{100});
    s.pressure = Pressure{30, 5, 20, 3, 0, 0};
    log.observe(s, Duration{200});
    s.pressure = Pressure{2, 6, 1, 4, 0, 0};
    log.observe(s, Duration{300});
    REQUIRE(log.worst_pressure());
    CHECK(log.worst_pressure()->some_avg10 == 30);
    CHECK(log.worst_at() == Duration{200});
}

TEST_CASE("MemoryWatch: no cgroup, no descriptor") {
    auto monitor = MemoryMonitor::open(std::string("none"));
    MemoryWatch watch(monitor);
    CHECK(watch.fd() == -1);
    MemoryFacts memory;
    watch.fill(memory, monitor.sample(0));
    CHECK(memory.limit_origin.empty());
    CHECK_FALSE(memory.events.has_value());
}
