// run's history file (an emptyDir shared by restarts: torn, foreign or
// hostile lines must not matter), and what the verdict says from it.
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "sidecar/history.hpp"

using namespace healthgate::sidecar;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<RunRecord> records = parse_history(text);
    for (const RunRecord& record : records) (void)display_outcome(record);
    (void)history_phrase(summarize_history(records, 1'700'000'000'000));
    // What we write, we read back, and writing that again changes nothing.
    std::vector<RunRecord> kept = parse_history(format_history(records));
    FUZZ_CHECK(kept.size() <= records.size());
    FUZZ_CHECK(parse_history(format_history(kept)) == kept);
    return 0;
}
