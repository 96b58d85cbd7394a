#include <catch2/catch.hpp>

#include "check/describe.hpp"

using namespace healthgate;

TEST_CASE("describe_failure names the failure class once", "[describe]") {
    std::string name(check::failure_name(check::Failure::connection_refused));
    CHECK(check::describe_failure({check::Failure::connection_refused, "connect 10.0.0.1:5432: " + name, Duration{1}}) ==
          "connect 10.0.0.1:5432: " + name);
    CHECK(check::describe_failure({check::Failure::connection_refused, "connect 10.0.0.1:5432", Duration{1}}) ==
          name + ": connect 10.0.0.1:5432");
    CHECK(check::describe_failure({check::Failure::connection_refused, "", Duration{1}}) == name);
    std::string dns(check::failure_name(check::Failure::dns_no_such_name));  // "dns: no such name"
    std::string core = dns.substr(dns.rfind(": ") + 2);
    CHECK(check::describe_failure({check::Failure::dns_no_such_name, "dns A db: " + core, Duration{1}}) == "dns A db: " + core);
}
