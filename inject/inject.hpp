#pragma once
// `healthgate inject`: the manifest transform, pure (text in, text out).
// Per pod template (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
// ReplicationController, Job, CronJob, and the same inside a List) and per
// chosen container it adds what the README's hand-written recipe adds: the
// `install` init container and its emptyDir (or an OCI image volume), the
// app's command wrapped with `run --history`, FallbackToLogsOnError, and
// optionally a gate init container (--wait), serve as a native sidecar
// (--serve) with its config in a generated ConfigMap, and the app's probes
// moved behind serve (--rewrite-probes). What it changed is recorded in an
// annotation on the pod template, which is how --remove restores the
// original and how a second inject replaces the first (idempotent).
#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.hpp"

namespace healthgate::inject {

inline constexpr const char* k_annotation = "healthgate.dev/injected";
inline constexpr const char* k_managed_label = "app.kubernetes.io/managed-by";
inline constexpr const char* k_managed_value = "healthgate-inject";

struct EntrypointOverride {
    std::string container;              // empty: every wrapped container without command:
    std::vector<std::string> words;     // the image's ENTRYPOINT (+ CMD when args: is absent)
};

struct InjectOptions {
    std::string image;                  // the healthgate image
    std::vector<std::string> containers;  // empty: every app container
    std::vector<std::string> wait_targets;
    std::vector<EntrypointOverride> entrypoints;
    bool image_volume = false;          // mount the image (Kubernetes >= 1.36) instead of copying the binary
    bool serve = false;
    bool rewrite_probes = false;        // implies serve
    bool exec_probes = false;           // rewritten probes exec `probe --from` serve's socket (implies rewrite_probes)
    bool serve_config_inline = false;   // serve's config in its env (HEALTHGATE_CONFIG_YAML), no ConfigMap
    std::uint16_t serve_port = 8081;
    bool remove = false;
};

struct InjectResult {
    std::string yaml;                   // the whole output, every document
    std::vector<std::string> summary;   // one line per pod template changed, for --dry-run
};

// `file` names the input in errors and the summary ("deployment.yaml", "-"
// for stdin). Errors are one line: "FILE: document N: PATH: problem";
// several lines, one per container, when several containers lack command:.
Expected<InjectResult> inject_manifests(const std::string& text, const std::string& file, const InjectOptions& options);

// "CMD ARGS" split on blanks, with '…' and "…" grouping words (no escapes).
Expected<std::vector<std::string>> split_words(const std::string& text);

}  // namespace healthgate::inject
