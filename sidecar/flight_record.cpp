#include "sidecar/flight_record.hpp"

#include <algorithm>

namespace healthgate::sidecar {

bool peak_rose_notably(std::optional<std::uint64_t> recorded, std::optional<std::uint64_t> peak,
                       std::optional<std::uint64_t> limit) {
    if (!peak) return false;
    if (!recorded) return true;
    if (*peak <= *recorded) return false;
    std::uint64_t rise = *peak - *recorded;
    if (limit && *limit > 0) {
        bool near_limit = *peak * 10 >= *limit * 9;
        bool at_edge = *peak * 20 >= *limit * 19;  // the last 5%: a group OOM kill may come any moment
        std::uint64_t step = at_edge ? *limit / 500 : near_limit ? *limit / 100 : *limit / 20;
        return rise >= std::max<std::uint64_t>(step, 1);
    }
    constexpr std::uint64_t k_min_step = 1 << 20;
    return rise >= std::max<std::uint64_t>(*recorded / 10, k_min_step);
}

OomTracker::OomTracker(std::optional<std::uint64_t> baseline) : baseline_(baseline), last_(baseline.value_or(0)) {}

std::uint64_t OomTracker::observe(std::optional<std::uint64_t> counter, Duration now) {
    if (!baseline_) return 0;
    std::uint64_t confirmed = 0;
    if (unconfirmed_ > 0 && now - unconfirmed_since_ >= k_confirm_after) {
        confirmed = unconfirmed_;
        child_kills_ += unconfirmed_;
        unconfirmed_ = 0;
    }
    if (counter && *counter > last_) {
        if (unconfirmed_ == 0) unconfirmed_since_ = now;
        unconfirmed_ += *counter - last_;
        last_ = *counter;
    }
    return confirmed;
}

std::uint64_t OomTracker::kills(std::optional<std::uint64_t> counter) const {
    if (!baseline_) return 0;
    std::uint64_t latest = std::max(last_, counter.value_or(last_));
    return latest > *baseline_ ? latest - *baseline_ : 0;
}

}  // namespace healthgate::sidecar
