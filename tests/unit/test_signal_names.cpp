#include <catch2/catch.hpp>

#include <csignal>

#include "sidecar/signal_names.hpp"

using namespace healthgate::sidecar;

TEST_CASE("signal names") {
    CHECK(signal_name(SIGKILL) == "SIGKILL");
    CHECK(signal_name(SIGTERM) == "SIGTERM");
    CHECK(signal_name(SIGSEGV) == "SIGSEGV");
    CHECK(signal_name(SIGRTMIN) == "SIGRTMIN");
    CHECK(signal_name(SIGRTMIN + 3) == "SIGRTMIN+3");
    CHECK(signal_name(99) == "signal 99");
}
