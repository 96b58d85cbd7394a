#pragma once
// Exit codes shared by every subcommand (documented in README and --help).
namespace healthgate {
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_not_ready = 1;       // wait: deadline passed; probe: unhealthy
inline constexpr int k_exit_usage = 2;           // bad flag, env var, config file
inline constexpr int k_exit_not_executable = 126;
inline constexpr int k_exit_not_found = 127;
inline constexpr int k_exit_signal_base = 128;   // 128+N: stopped by signal N
}  // namespace healthgate
