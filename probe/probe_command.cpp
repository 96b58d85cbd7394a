// PLACEHOLDER: replaced by the real implementation.
#include "probe/probe_command.hpp"
#include <cstdio>
namespace healthgate::probe {
int probe_main(const std::vector<std::string>&) { std::fputs("not implemented yet\n", stderr); return 2; }
}
