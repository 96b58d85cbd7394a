#pragma once
// Signal names for messages ("SIGKILL", "SIGRTMIN+3", "signal 99"); the
// libc's own table is not relied on because a static binary may lack it.
#include <string>

namespace healthgate::sidecar {

std::string signal_name(int signal);

}  // namespace healthgate::sidecar
