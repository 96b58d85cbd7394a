#pragma once
// The one edge every usage/config error line (exit 2) passes through before it
// reaches stderr, and from there container logs and, with
// FallbackToLogsOnError, the termination message. Whatever the parser wrote:
//   - secrets found in the command's inputs (arguments, HEALTHGATE_* variables,
//     the --config file) are replaced by "<secret>" wherever they appear, and
//     secret-looking parts of the line itself (URL passwords, header= values,
//     password=/token= options) are redacted by their shape;
//   - control characters are escaped (\n, \t, \xHH), so it stays one line;
//   - invalid UTF-8 becomes U+FFFD and the line is cut to a bound.
#include <string>
#include <string_view>
#include <vector>

namespace healthgate {

inline constexpr std::size_t k_error_line_max = 1024;
inline constexpr std::string_view k_redacted = "<secret>";

// The secrets written in `text` (a target, an argument list, a config file):
// URL userinfo passwords, header= values, password=/token=/secret= options
// and YAML password:/token:/secret: values, raw and percent-decoded, and the
// words of each. Secrets shorter than 3 bytes are not collected (replacing
// every "a" would garble the line more than it protects).
std::vector<std::string> secrets_in(std::string_view text);

// `message` with the secrets redacted, control characters escaped, and cut to
// `max_bytes` (plus a short "…" marker).
std::string error_line(std::string_view message, const std::vector<std::string>& secrets,
                       std::size_t max_bytes = k_error_line_max);

// The secrets of a config file: secrets_in() of its text, and what its YAML
// structure says is secret (header values, password/token/secret keys).
std::vector<std::string> config_secrets(std::string_view text);

// The secrets of a command's inputs: `args`, the HEALTHGATE_* environment, the
// config file named by --config/HEALTHGATE_CONFIG and any `files` given.
std::vector<std::string> command_secrets(const std::vector<std::string>& args,
                                         const std::vector<std::string>& files = {});

// Prints "healthgate <message>" through error_line() with the secrets of the
// command's inputs, and returns k_exit_usage.
int usage_error(std::string_view message, const std::vector<std::string>& args,
                const std::vector<std::string>& files = {});

}  // namespace healthgate
