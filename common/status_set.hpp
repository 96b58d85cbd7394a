#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/expected.hpp"

namespace healthgate {

// A set of HTTP status codes: "200-399" (the kubelet's rule, the default),
// "200", "200,204", "200-299,301". Ranges are inclusive.
class StatusSet {
public:
    StatusSet() : ranges_{{200, 399}} {}
    static Expected<StatusSet> parse(std::string_view text);

    bool contains(int status) const;
    std::string to_string() const;

private:
    std::vector<std::pair<int, int>> ranges_;
};

}  // namespace healthgate
