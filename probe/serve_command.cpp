// PLACEHOLDER: replaced by the real implementation.
#include "probe/serve_command.hpp"
#include <cstdio>
namespace healthgate::probe {
int serve_main(const std::vector<std::string>&) { std::fputs("not implemented yet\n", stderr); return 2; }
int config_main(const std::vector<std::string>&) { std::fputs("not implemented yet\n", stderr); return 2; }
}
