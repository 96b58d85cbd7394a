// /etc/resolv.conf as the pod has it (the kubelet writes it, anyone may mount
// another), and the search candidates it gives a name.
#include <cstdint>
#include <string>

#include "check/resolv_conf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto conf = healthgate::check::parse_resolv_conf(text, "resolv.conf");
    if (!conf) return 0;
    (void)healthgate::check::resolver_summary(*conf);
    (void)healthgate::check::search_candidates("db", *conf);
    (void)healthgate::check::search_candidates("a.b.c.d.e.f", *conf);
    return 0;
}
