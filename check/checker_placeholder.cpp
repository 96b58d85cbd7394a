// PLACEHOLDER: replaced by the real implementation.
#include "check/check.hpp"
namespace healthgate::check {
std::string_view failure_name(Failure) { return "other"; }
Expected<std::unique_ptr<Checker>> Checker::create(boost::asio::io_context&, const CheckerOptions&) { return make_error("not implemented"); }
}
