#include <catch2/catch.hpp>

#include "common/backoff.hpp"

using namespace healthgate;

TEST_CASE("backoff grows by the factor up to the cap", "[backoff]") {
    BackoffPolicy policy{Duration{100}, 2.0, Duration{1000}, 0.0};
    CHECK(backoff_delay(policy, 0, 0.5).count() == 100);
    CHECK(backoff_delay(policy, 1, 0.5).count() == 200);
    CHECK(backoff_delay(policy, 3, 0.5).count() == 800);
    CHECK(backoff_delay(policy, 4, 0.5).count() == 1000);
    CHECK(backoff_delay(policy, 1'000'000, 0.5).count() == 1000);  // no overflow
}

TEST_CASE("jitter spreads within bounds and is driven by the random source", "[backoff]") {
    BackoffPolicy policy{Duration{1000}, 1.0, Duration{1000}, 0.2};
    CHECK(backoff_delay(policy, 0, 0.0).count() == 800);
    CHECK(backoff_delay(policy, 0, 0.5).count() == 1000);
    CHECK(backoff_delay(policy, 0, 1.0).count() == 1200);
    for (double r = 0; r <= 1.0; r += 0.01) {
        auto d = backoff_delay(policy, 0, r).count();
        CHECK(d >= 800);
        CHECK(d <= 1200);
    }
}

TEST_CASE("jitter clamps nonsense inputs", "[backoff]") {
    CHECK(apply_jitter(Duration{0}, 0.5, 0.0).count() == 1);
    CHECK(apply_jitter(Duration{100}, 5.0, 0.0).count() >= 1);
    CHECK(apply_jitter(Duration{100}, 0.2, 7.0).count() == 120);
    CHECK(apply_jitter(Duration{100}, 0.2, -3.0).count() == 80);
}

TEST_CASE("default policy: fast at first, fewer attempts than a 1s loop over a minute", "[backoff]") {
    BackoffPolicy policy;
    REQUIRE_FALSE(validate(policy));
    // Sum the mean delays: attempts within 60s and the delay around t=1..5s.
    double t = 0;
    int attempts = 0;
    double delay_at_5s = 0;
    while (t < 60'000) {
        double d = static_cast<double>(backoff_delay(policy, attempts, 0.5).count());
        if (t < 5000) delay_at_5s = d;
        t += d;
        ++attempts;
    }
    CHECK(attempts < 60);
    CHECK(delay_at_5s <= 600);
}

TEST_CASE("invalid policies are named", "[backoff]") {
    CHECK(validate(BackoffPolicy{Duration{0}, 2.0, Duration{10}, 0.1}));
    CHECK(validate(BackoffPolicy{Duration{10}, 0.5, Duration{100}, 0.1}));
    CHECK(validate(BackoffPolicy{Duration{100}, 2.0, Duration{10}, 0.1})->find("smaller") != std::string::npos);
    CHECK(validate(BackoffPolicy{Duration{10}, 2.0, Duration{100}, 1.0}));
}
