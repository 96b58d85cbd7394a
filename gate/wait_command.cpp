// PLACEHOLDER: replaced by the real implementation.
#include "gate/wait_command.hpp"
#include <cstdio>
namespace healthgate::gate {
int wait_main(const std::vector<std::string>&) { std::fputs("not implemented yet\n", stderr); return 2; }
}
