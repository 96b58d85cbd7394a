// PLACEHOLDER: replaced by the real implementation.
#include "sidecar/run_command.hpp"
#include <cstdio>
namespace healthgate::sidecar {
int run_main(const std::vector<std::string>&) { std::fputs("not implemented yet\n", stderr); return 2; }
}
