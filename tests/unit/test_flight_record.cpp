#include <catch2/catch.hpp>

#include "sidecar/flight_record.hpp"

using namespace healthgate::sidecar;
using healthgate::Duration;

namespace {
constexpr std::uint64_t k_mi = 1024 * 1024;
}

TEST_CASE("peak rises: the first figure always counts") {
    CHECK(peak_rose_notably(std::nullopt, 10 * k_mi, 512 * k_mi));
    CHECK_FALSE(peak_rose_notably(std::nullopt, std::nullopt, 512 * k_mi));
}

TEST_CASE("peak rises: 5% of the limit, 1% near it, 0.2% at the edge") {
    std::uint64_t limit = 1000 * k_mi;
    CHECK_FALSE(peak_rose_notably(950 * k_mi, 951 * k_mi, limit));
    CHECK(peak_rose_notably(950 * k_mi, 952 * k_mi, limit));
    CHECK_FALSE(peak_rose_notably(940 * k_mi, 949 * k_mi, limit));
    CHECK_FALSE(peak_rose_notably(100 * k_mi, 140 * k_mi, limit));
    CHECK(peak_rose_notably(100 * k_mi, 150 * k_mi, limit));
    CHECK_FALSE(peak_rose_notably(900 * k_mi, 905 * k_mi, limit));
    CHECK(peak_rose_notably(900 * k_mi, 910 * k_mi, limit));
    CHECK_FALSE(peak_rose_notably(500 * k_mi, 400 * k_mi, limit));
}

TEST_CASE("peak rises: without a limit, 10% and at least 1 MiB") {
    CHECK_FALSE(peak_rose_notably(100 * k_mi, 109 * k_mi, std::nullopt));
    CHECK(peak_rose_notably(100 * k_mi, 110 * k_mi, std::nullopt));
    CHECK_FALSE(peak_rose_notably(1024, 4096, std::nullopt));
    CHECK(peak_rose_notably(1024, 2 * k_mi, std::nullopt));
}

TEST_CASE("OOM tracker: unknown without a counter") {
    OomTracker tracker(std::nullopt);
    CHECK_FALSE(tracker.known());
    CHECK(tracker.observe(5, Duration{0}) == 0);
    CHECK(tracker.kills(5) == 0);
}

TEST_CASE("OOM tracker: a rise is a child's once the app outlives it by a second") {
    OomTracker tracker(3);
    CHECK(tracker.observe(3, Duration{0}) == 0);
    CHECK(tracker.observe(4, Duration{250}) == 0);   // seen, not yet confirmed
    CHECK(tracker.observe(4, Duration{500}) == 0);
    CHECK(tracker.observe(4, Duration{1250}) == 1);  // the app still lives: a child was killed
    CHECK(tracker.child_kills() == 1);
    CHECK(tracker.kills(4) == 1);
}

TEST_CASE("OOM tracker: the app's own kill is not pinned on a child") {
    OomTracker tracker(0);
    CHECK(tracker.observe(0, Duration{0}) == 0);
    CHECK(tracker.observe(1, Duration{250}) == 0);
    // The app is reaped before the next sample: only the final count is taken.
    CHECK(tracker.child_kills() == 0);
    CHECK(tracker.kills(1) == 1);
}

TEST_CASE("OOM tracker: a later reading cannot lower the count") {
    OomTracker tracker(2);
    tracker.observe(5, Duration{0});
    CHECK(tracker.kills(std::nullopt) == 3);
    CHECK(tracker.kills(4) == 3);
}
