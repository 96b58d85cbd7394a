#include <catch2/catch.hpp>

#include "inject/inject.hpp"

using namespace healthgate::inject;

namespace {

const char* const k_pod = R"(apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: app
      image: a
      command: [/app]
    - name: side
      image: b
)";

InjectOptions options() {
    InjectOptions o;
    o.image = "hg:1";
    return o;
}

}  // namespace

TEST_CASE("split_words splits on blanks and groups quoted words") {
    auto words = split_words("/bin/sh -c 'echo a b' \"x y\"");
    REQUIRE(words);
    CHECK(*words == std::vector<std::string>{"/bin/sh", "-c", "echo a b", "x y"});
    CHECK_FALSE(split_words("a 'b"));
    CHECK_FALSE(split_words("   "));
}

TEST_CASE("a container without command: is named, never guessed") {
    auto result = inject_manifests(k_pod, "pod.yaml", options());
    REQUIRE_FALSE(result);
    CHECK(result.error().starts_with("pod.yaml: document 1: spec.containers[1] (side): no command:"));
}

TEST_CASE("inject: --entrypoint NAME= applies to that container only, and --container leaves the others alone") {
    InjectOptions o = options();
    o.entrypoints.push_back({"side", {"/side", "--x"}});
    auto result = inject_manifests(k_pod, "pod.yaml", o);
    REQUIRE(result);
    CHECK(result->yaml.find("- --history=/hg/history-side\n        - --\n        - /side\n        - --x\n") !=
          std::string::npos);

    InjectOptions only = options();
    only.containers = {"app"};
    auto app_only = inject_manifests(k_pod, "pod.yaml", only);
    REQUIRE(app_only);
    CHECK(app_only->yaml.find("history-side") == std::string::npos);
    CHECK(app_only->summary == std::vector<std::string>{"pod.yaml: document 1: Pod/p: wrapped app; init containers +healthgate-install"});
}

TEST_CASE("inject is idempotent and --remove gives back the input as written") {
    InjectOptions o = options();
    o.containers = {"app"};
    o.wait_targets = {"tcp://db:5432"};
    auto once = inject_manifests(k_pod, "pod.yaml", o);
    REQUIRE(once);
    auto twice = inject_manifests(once->yaml, "pod.yaml", o);
    REQUIRE(twice);
    CHECK(twice->yaml == once->yaml);
    InjectOptions remove = options();
    remove.remove = true;
    auto removed = inject_manifests(once->yaml, "pod.yaml", remove);
    REQUIRE(removed);
    auto plain = inject_manifests(k_pod, "pod.yaml", remove);  // the input, only re-emitted
    REQUIRE(plain);
    CHECK(removed->yaml == plain->yaml);
}

TEST_CASE("inject: --serve without a probe to serve adds no sidecar, and says so") {
    InjectOptions o = options();
    o.containers = {"app"};
    o.serve = true;
    auto result = inject_manifests(k_pod, "pod.yaml", o);
    REQUIRE(result);
    CHECK(result->yaml.find("healthgate-serve") == std::string::npos);
    CHECK(result->summary.at(0).ends_with("; no httpGet, tcpSocket or grpc probe to serve: no serve sidecar"));
}

TEST_CASE("documents inject does not own are written back unchanged") {
    auto result = inject_manifests("kind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n---\n---\nfoo: \"1\"\n",
                                   "x.yaml", options());
    REQUIRE(result);
    CHECK(result->yaml == "kind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n---\nfoo: \"1\"\n");
    CHECK(result->summary.empty());
}
