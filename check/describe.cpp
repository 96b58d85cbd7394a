#include "check/describe.hpp"

#include <fmt/format.h>

namespace healthgate::check {

std::string describe_failure(const CheckResult& result) {
    std::string_view name = failure_name(result.failure);
    if (result.reason.empty()) return std::string(name);
    // "dns: no such name" is said by "...: no such name: ..." already.
    auto colon = name.rfind(": ");
    std::string_view core = colon == std::string_view::npos ? name : name.substr(colon + 2);
    if (result.reason.find(core) != std::string::npos) return result.reason;
    return fmt::format("{}: {}", name, result.reason);
}

}  // namespace healthgate::check
