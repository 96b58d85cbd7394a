#pragma once
// The termination message: the file the kubelet reads after a container
// exits (default /dev/termination-log). It keeps the LAST 4096 bytes of the
// file and the pod status keeps the FIRST bytes of that, so messages are
// composed most-important-first and always fit. The file is a bind mount:
// it is rewritten in place, never replaced by rename().
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace healthgate {

inline constexpr std::size_t k_termination_message_max = 4096;
inline constexpr const char* k_default_termination_log = "/dev/termination-log";

// The path to write: `configured` if given (empty = disabled with "none"),
// else /dev/termination-log when it exists and is writable, else nothing.
std::optional<std::string> resolve_termination_log(const std::optional<std::string>& configured);

// Joins sections in order, dropping whole trailing lines that do not fit in
// `max_bytes`; a single first line that is too long is cut at a UTF-8
// boundary. The result is valid UTF-8 (invalid bytes become U+FFFD) and never
// longer than max_bytes.
std::string fit_message(const std::vector<std::string>& lines, std::size_t max_bytes = k_termination_message_max);

// Rewrites the file in place (open without O_TRUNC, write at offset 0, then
// truncate to the new length) so a reader never sees a missing file.
// Returns an error text naming the call that failed, or nothing.
std::optional<std::string> write_termination_message(const std::string& path, std::string_view message);

}  // namespace healthgate
