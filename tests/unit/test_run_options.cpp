#include <catch2/catch.hpp>

#include <cstdlib>

#include "sidecar/run_options.hpp"

using namespace healthgate::sidecar;
using healthgate::Duration;

TEST_CASE("run options: defaults and the command after --") {
    auto options = parse_run_options({"--", "python", "app.py", "--port", "80"});
    REQUIRE(options.ok());
    CHECK(options->command == std::vector<std::string>{"python", "app.py", "--port", "80"});
    CHECK(options->max_bytes == 4096);
    CHECK(options->format == MessageFormat::text);
    CHECK_FALSE(options->termination_log.has_value());
    CHECK_FALSE(options->history_dir.has_value());
    CHECK_FALSE(options->signal_group);
    CHECK(options->record_interval == Duration{10'000});
    CHECK(options->sample_interval == Duration{250});
}

TEST_CASE("run options: every flag") {
    auto options = parse_run_options({"--termination-log", "/tmp/t", "--max-bytes=1024", "--format", "json", "--history",
                                      "/hist", "--signal-group", "--record-interval", "0", "--sample-interval", "1s",
                                      "--tail-bytes", "4096", "--cgroup", "none", "--log-format", "json", "--log-level",
                                      "debug", "--", "app"});
    REQUIRE(options.ok());
    CHECK(*options->termination_log == "/tmp/t");
    CHECK(options->max_bytes == 1024);
    CHECK(options->format == MessageFormat::json);
    CHECK(*options->history_dir == "/hist");
    CHECK(options->signal_group);
    CHECK(options->record_interval == Duration{0});
    CHECK(options->sample_interval == Duration{1000});
    CHECK(options->tail_bytes == 4096);
    CHECK(*options->cgroup == "none");
    CHECK(options->log_format == healthgate::log::Format::json);
    CHECK(options->log_level == healthgate::log::Level::debug);
}

TEST_CASE("run options: environment variables, overridden by flags") {
    ::setenv("HEALTHGATE_MAX_BYTES", "2048", 1);
    ::setenv("HEALTHGATE_FORMAT", "json", 1);
    auto from_env = parse_run_options({"--", "app"});
    auto overridden = parse_run_options({"--max-bytes", "512", "--", "app"});
    ::unsetenv("HEALTHGATE_MAX_BYTES");
    ::unsetenv("HEALTHGATE_FORMAT");
    REQUIRE(from_env.ok());
    CHECK(from_env->max_bytes == 2048);
    CHECK(from_env->format == MessageFormat::json);
    REQUIRE(overridden.ok());
    CHECK(overridden->max_bytes == 512);
}

TEST_CASE("run options: usage errors name the problem") {
    auto no_command = parse_run_options({});
    REQUIRE_FALSE(no_command.ok());
    CHECK(no_command.error().find("no command") != std::string::npos);
    auto no_dashes = parse_run_options({"python", "app.py"});
    REQUIRE_FALSE(no_dashes.ok());
    CHECK(no_dashes.error().find("put -- before the command") != std::string::npos);
    auto too_big = parse_run_options({"--max-bytes", "5000", "--", "x"});
    REQUIRE_FALSE(too_big.ok());
    CHECK(too_big.error() == "run: --max-bytes: 5000 is out of range 64..4096");
    CHECK_FALSE(parse_run_options({"--format", "yaml", "--", "x"}).ok());
    CHECK_FALSE(parse_run_options({"--sample-interval", "1ms", "--", "x"}).ok());
    CHECK_FALSE(parse_run_options({"--record-interval", "soon", "--", "x"}).ok());
    CHECK_FALSE(parse_run_options({"--bogus", "--", "x"}).ok());
}

TEST_CASE("run options: help") {
    auto options = parse_run_options({"--help"});
    REQUIRE(options.ok());
    CHECK(options->help);
    std::string help = k_run_help;
    for (const char* flag : {"--termination-log", "--max-bytes", "--format", "--history", "--signal-group",
                             "--record-interval", "--sample-interval", "--tail-bytes", "--cgroup", "--log-format",
                             "--log-level", "HEALTHGATE_TERMINATION_LOG", "HEALTHGATE_HISTORY", "128+N", "127"}) {
        CHECK(help.find(flag) != std::string::npos);
    }
}
