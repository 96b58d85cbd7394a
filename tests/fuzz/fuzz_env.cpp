// Environment values of wait and serve: the first byte picks the variable,
// the rest is its value.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_check.hpp"
#include "gate/wait_config.hpp"
#include "probe/serve_config.hpp"

namespace {
const char* const k_variables[] = {
    "HEALTHGATE_TARGETS",        "HEALTHGATE_TIMEOUT",       "HEALTHGATE_LOG_FORMAT",  "HEALTHGATE_LOG_LEVEL",
    "HEALTHGATE_SUMMARY_INTERVAL", "HEALTHGATE_LISTEN",      "HEALTHGATE_DRAIN",       "HEALTHGATE_REQUEST_TIMEOUT",
    "HEALTHGATE_STARTUP",        "HEALTHGATE_LIVENESS",      "HEALTHGATE_READINESS",   "HEALTHGATE_CHECK_INTERVAL",
    "HEALTHGATE_CHECK_TIMEOUT",  "HEALTHGATE_FAILURE_THRESHOLD", "HEALTHGATE_SUCCESS_THRESHOLD",
    "HEALTHGATE_LIVENESS_ALLOW_REMOTE", "HEALTHGATE_BACKOFF_INITIAL", "HEALTHGATE_BACKOFF_MAX",
    "HEALTHGATE_BACKOFF_FACTOR", "HEALTHGATE_JITTER", "HEALTHGATE_ATTEMPT_TIMEOUT",
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const char* name = k_variables[data[0] % (sizeof k_variables / sizeof k_variables[0])];
    std::string value(reinterpret_cast<const char*>(data + 1), size - 1);
    if (value.find('\0') != std::string::npos) return 0;  // impossible in an environment
    ::setenv(name, value.c_str(), 1);
    // A target so that wait has one even when the variable is another.
    (void)healthgate::gate::load_wait_config({"--termination-log", "none", "tcp://127.0.0.1:1"});
    healthgate::probe::LocalIdentity identity{{"10.0.0.7"}, {"pod-0"}};
    (void)healthgate::probe::load_serve_config({"--readiness", "tcp://127.0.0.1:1"}, identity);
    ::unsetenv(name);
    return 0;
}
