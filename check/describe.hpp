#pragma once
// How a failed attempt reads to a person, shared by wait's diagnosis and the
// probe/serve outputs: the checker's reason, prefixed by the failure class
// only when the reason does not already say it
// ("connect 10.0.0.1:5432: connection refused", not "connection refused: connect ...: connection refused").
#include <string>

#include "check/check.hpp"

namespace healthgate::check {

std::string describe_failure(const CheckResult& result);

}  // namespace healthgate::check
