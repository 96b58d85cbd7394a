#pragma once
// The rules of the flight recorder, pure so they are tested without a clock:
// when the "still running" record is rewritten, and which OOM kills belong to
// a child rather than to the app.
#include <cstdint>
#include <optional>

#include "common/duration.hpp"

namespace healthgate::sidecar {

// Whether the peak rose enough since the last record to rewrite it now (an
// OOM kill of the whole container may come before the next timer): by 5% of
// the limit, by 1% of it once above 90%, by 0.2% above 95%, or without a
// limit by 10% of the recorded peak (at least 1 MiB).
bool peak_rose_notably(std::optional<std::uint64_t> recorded, std::optional<std::uint64_t> peak,
                       std::optional<std::uint64_t> limit);

// Attributes rises of the cgroup's OOM-kill counter. A rise seen while the
// app lives is a child's only once the app is still alive k_confirm_after
// later: the app's own OOM kill also raises the counter a moment before its
// death is reaped.
//   - observe(counter, now) on every sample while the app has not been reaped;
//   - facts_at_exit(counter) once it has.
class OomTracker {
public:
    static constexpr Duration k_confirm_after{1000};

    explicit OomTracker(std::optional<std::uint64_t> baseline);

    // Returns how many kills were just pinned on a child process (to log them).
    std::uint64_t observe(std::optional<std::uint64_t> counter, Duration now);

    bool known() const { return baseline_.has_value(); }
    // Rise of the counter since the start (with `counter` the latest reading).
    std::uint64_t kills(std::optional<std::uint64_t> counter) const;
    std::uint64_t child_kills() const { return child_kills_; }

private:
    std::optional<std::uint64_t> baseline_;
    std::uint64_t last_ = 0;
    std::uint64_t unconfirmed_ = 0;
    Duration unconfirmed_since_{0};
    std::uint64_t child_kills_ = 0;
};

}  // namespace healthgate::sidecar
