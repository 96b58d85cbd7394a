// cgroup and /proc files as `run` reads them: /proc/self/cgroup,
// mountinfo, memory.max/current/events, memory.oom_control, /proc/PID/status
// and /proc/self/maps. The first byte picks the parser.
#include <cstdint>
#include <string>

#include "sidecar/cgroup_memory.hpp"
#include "sidecar/footprint.hpp"

using namespace healthgate::sidecar;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 8) {
        case 0: {
            auto cgroups = parse_proc_cgroup(text);
            auto mounts = parse_mountinfo(text);
            (void)memory_cgroup_candidates(cgroups, mounts);
            break;
        }
        case 1: (void)parse_counter(text); break;
        case 2: (void)parse_limit(text); break;
        case 3: (void)parse_memory_events(text); break;
        case 4: (void)parse_oom_control(text); break;
        case 5: (void)parse_status_hwm(text); break;
        case 6: (void)find_key_value(text, "total_rss"); break;
        case 7: (void)parse_maps(text); break;
    }
    return 0;
}
