#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "gate/wait_config.hpp"
#include "temp_file.hpp"

using namespace healthgate;
using namespace healthgate::gate;

TEST_CASE("wait flags, targets and the command after --", "[wait-config]") {
    auto config = load_wait_config({"tcp://db:5432", "--timeout", "30s", "--backoff-max=1s", "http://api/",
                                    "--", "/app", "--flag", "$HOME"});
    REQUIRE(config.ok());
    CHECK(config->targets.size() == 2);
    CHECK(config->timeout.count() == 30'000);
    CHECK(config->backoff.max.count() == 1000);
    CHECK(config->command == std::vector<std::string>{"/app", "--flag", "$HOME"});
}

TEST_CASE("file < env < flags, targets combined", "[wait-config]") {
    std::string path = write_temp_file(
        "timeout: 1m\n"
        "attempt_timeout: 2s\n"
        "backoff: {initial: 50ms, factor: 2, max: 5s}\n"
        "targets:\n"
        "  - tcp://db:5432\n");
    ::setenv("HEALTHGATE_TIMEOUT", "2m", 1);
    ::setenv("HEALTHGATE_TARGETS", "dns://redis\n  file:///ready", 1);
    auto config = load_wait_config({"--config", path, "--attempt-timeout", "1s", "tcp://x:1"});
    ::unsetenv("HEALTHGATE_TIMEOUT");
    ::unsetenv("HEALTHGATE_TARGETS");
    std::remove(path.c_str());
    REQUIRE(config.ok());
    CHECK(config->timeout.count() == 120'000);     // env beats file
    CHECK(config->attempt_timeout.count() == 1000);  // flag beats file
    CHECK(config->backoff.initial.count() == 50);
    CHECK(config->backoff.factor == 2.0);
    CHECK(config->targets.size() == 4);
}

TEST_CASE("wait config errors are one line naming the value", "[wait-config]") {
    CHECK_THAT(load_wait_config({}).error(), Catch::Contains("no targets"));
    CHECK_THAT(load_wait_config({"tcp://a:1", "--timeout", "soon"}).error(),
               Catch::Contains("--timeout") && Catch::Contains("\"soon\""));
    CHECK_THAT(load_wait_config({"tcp://a:1", "--backoff-factor", "x"}).error(), Catch::Contains("expected a number"));
    CHECK_THAT(load_wait_config({"tcp://a:1", "--backoff-initial", "5s", "--backoff-max", "1s"}).error(),
               Catch::Contains("smaller"));
    CHECK_THAT(load_wait_config({"tcp://a:1", "tcp://a:1"}).error(), Catch::Contains("given twice"));
    CHECK_THAT(load_wait_config({"tcp://a:1", "--"}).error(), Catch::Contains("nothing after"));
    CHECK_THAT(load_wait_config({"tcp://a:1", "--log-format", "xml"}).error(), Catch::Contains("xml"));
    ::setenv("HEALTHGATE_JITTER", "lots", 1);
    CHECK_THAT(load_wait_config({"tcp://a:1"}).error(), Catch::Contains("HEALTHGATE_JITTER"));
    ::unsetenv("HEALTHGATE_JITTER");
    ::setenv("HEALTHGATE_TARGETS", "tcp://nope", 1);
    CHECK_THAT(load_wait_config({}).error(), Catch::Contains("HEALTHGATE_TARGETS") && Catch::Contains("missing port"));
    ::unsetenv("HEALTHGATE_TARGETS");

    std::string path = write_temp_file("timeout: 1m\nbogus: 1\n");
    CHECK_THAT(load_wait_config({"--config", path, "tcp://a:1"}).error(),
               Catch::Contains(path + ":2:") && Catch::Contains("bogus"));
    std::remove(path.c_str());
    path = write_temp_file("targets:\n  - tcp://a:1\n  - url: http://x/\n    body_regex: \"(\"\n");
    CHECK_THAT(load_wait_config({"--config", path}).error(), Catch::Contains(path + ":4:"));
    std::remove(path.c_str());
    path = write_temp_file("backoff:\n  initial: 1s\n  speed: 3\n");
    CHECK_THAT(load_wait_config({"--config", path, "tcp://a:1"}).error(),
               Catch::Contains(path + ":3:") && Catch::Contains("backoff.speed"));
    std::remove(path.c_str());
}

TEST_CASE("help is not an error", "[wait-config]") {
    auto config = load_wait_config({"--help"});
    REQUIRE(config.ok());
    CHECK(config->help);
}
