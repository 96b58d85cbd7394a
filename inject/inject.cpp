#include "inject/inject.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <optional>
#include <set>

#include "common/target.hpp"
#include "common/text.hpp"
#include "common/yaml_config.hpp"
#include "inject/yaml_out.hpp"

namespace healthgate::inject {

namespace {

constexpr const char* k_volume = "healthgate";          // emptyDir: the binary's copy, histories, serve's socket
constexpr const char* k_mount = "/hg";
constexpr const char* k_image_volume = "healthgate-bin";  // --image-volume: the image itself, read-only
constexpr const char* k_image_mount = "/hg-bin";
constexpr const char* k_socket = "/hg/serve.sock";       // serve --socket, for exec probes
constexpr const char* k_config_volume = "healthgate-config";
constexpr const char* k_config_mount = "/etc/healthgate";
constexpr const char* k_install = "healthgate-install";
constexpr const char* k_wait = "healthgate-wait";
constexpr const char* k_serve = "healthgate-serve";
constexpr const char* k_probe_keys[] = {"startupProbe", "livenessProbe", "readinessProbe"};
constexpr const char* k_probe_names[] = {"startup", "liveness", "readiness"};
constexpr const char* k_endpoints[] = {"startupz", "livez", "readyz"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool ours(std::string_view name) {
    return name == k_volume || name == k_image_volume || name == k_config_volume || name == k_install ||
           name == k_wait || name == k_serve;
}

// Reads without inserting: yaml-cpp's non-const operator[] may add the key.
// A missing key gives an undefined node (false in a test), never yaml-cpp's
// "invalid" one, which throws at the next use.
YAML::Node get(const YAML::Node& node, std::string_view key) {
    YAML::Node undefined(YAML::NodeType::Undefined);
    if (!node.IsDefined() || !node.IsMap()) return undefined;
    const YAML::Node& c = node;
    YAML::Node value = c[std::string(key)];
    return value.IsDefined() ? value : undefined;
}

std::string scalar_or(const YAML::Node& node, std::string fallback = "") {
    return node && node.IsScalar() ? node.Scalar() : fallback;
}

std::string name_of(const YAML::Node& item) { return scalar_or(get(item, "name")); }

YAML::Node map_of(std::initializer_list<std::pair<const char*, YAML::Node>> entries) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [key, value] : entries) out[key] = value;
    return out;
}

YAML::Node seq_of(const std::vector<std::string>& items) {
    YAML::Node out(YAML::NodeType::Sequence);
    for (const std::string& item : items) out.push_back(string_node(item));
    return out;
}

YAML::Node str(std::string_view text) { return string_node(text); }
YAML::Node num(long value) { return YAML::Node(std::to_string(value)); }

// Removes the items of parent[key] whose name is one of ours; true when any was.
bool drop_ours(YAML::Node parent, const char* key) {
    YAML::Node list = get(parent, key);
    if (!list || !list.IsSequence()) return false;
    YAML::Node kept(YAML::NodeType::Sequence);
    kept.SetStyle(list.Style());  // flow stays flow: injecting again writes the same
    bool dropped = false;
    for (const auto& item : list) {
        if (ours(name_of(item))) {
            dropped = true;
        } else {
            kept.push_back(item);
        }
    }
    if (dropped) parent[key] = kept;
    return dropped;
}

// An error in one document: "FILE: document N: PATH: problem".
struct Where {
    std::string prefix;  // "FILE: document N: "
    std::string path;    // "spec.template." or "items[2].spec.template."
    std::string at(std::string_view rest) const { return prefix + path + std::string(rest); }
};

struct Template {
    YAML::Node holder;  // the node holding metadata: and spec: (the Pod, or spec.template)
    Where where;
    std::string workload;   // "Deployment/orders"
    std::string name;       // for the ConfigMap's name
    YAML::Node namespace_;  // the workload's metadata.namespace, when set
};

// What inject changed, so --remove can undo exactly that. A null value means
// "was absent".
YAML::Node record_of(const YAML::Node& annotation) {
    try {
        YAML::Node record = YAML::Load(annotation.Scalar());
        if (record.IsMap()) return record;
    } catch (const YAML::Exception&) {
    }
    return YAML::Node();
}

std::optional<std::string> remove_injection(const Template& t, bool& removed) {
    YAML::Node metadata = get(t.holder, "metadata");
    YAML::Node annotations = get(metadata, "annotations");
    YAML::Node annotation = get(annotations, k_annotation);
    if (!annotation) return std::nullopt;
    YAML::Node record = annotation.IsScalar() ? record_of(annotation) : YAML::Node();
    if (!record) return t.where.at(fmt::format("metadata.annotations.{}: not a record healthgate inject wrote", k_annotation));
    removed = true;
    YAML::Node spec = get(t.holder, "spec");
    YAML::Node containers = get(spec, "containers");
    YAML::Node saved = get(record, "containers");
    if (containers.IsSequence() && saved.IsMap()) {
        for (auto container : containers) {
            YAML::Node fields = get(saved, name_of(container));
            if (!fields.IsMap()) continue;
            for (const auto& field : fields) {
                std::string key = field.first.Scalar();
                if (field.second.IsNull()) {
                    container.remove(key);
                } else {
                    container[key] = deep_copy(field.second);
                }
            }
            drop_ours(container, "volumeMounts");  // a list that was absent was removed above
        }
    }
    for (const char* list : {"initContainers", "volumes"}) {
        drop_ours(spec, list);
        YAML::Node items = get(spec, list);
        if (get(record, list) && get(record, list).IsNull() && items.IsSequence() && items.size() == 0) spec.remove(list);
    }
    annotations.remove(k_annotation);
    if (get(record, "annotations") && annotations.size() == 0) metadata.remove("annotations");
    if (get(record, "metadata") && metadata.size() == 0) YAML::Node(t.holder).remove("metadata");
    return std::nullopt;
}

// A probe handler of the app as a serve check target; nullopt with a reason
// when serve cannot run it.
struct ProbeTarget {
    YAML::Node target;
    bool remote = false;
};

Expected<ProbeTarget> probe_target(const YAML::Node& probe, const YAML::Node& container, const Where& where,
                                   const std::string& path) {
    auto port_of = [&](const YAML::Node& handler, const std::string& at) -> Expected<long> {
        YAML::Node port = get(handler, "port");
        if (!port || !port.IsScalar()) return make_error(where.at(at + ".port: missing"));
        const std::string& text = port.Scalar();
        if (!text.empty() && std::all_of(text.begin(), text.end(), is_digit)) {
            long value = std::stol(text.substr(0, 6));
            if (value >= 1 && value <= 65535) return value;
            return make_error(where.at(fmt::format("{}.port: {} is not a port (1-65535)", at, text)));
        }
        YAML::Node ports = get(container, "ports");
        if (ports.IsSequence()) {
            for (const auto& p : ports) {
                if (name_of(p) == text) {
                    std::string number = scalar_or(get(p, "containerPort"));
                    if (!number.empty() && std::all_of(number.begin(), number.end(), is_digit)) return std::stol(number.substr(0, 6));
                }
            }
        }
        return make_error(where.at(fmt::format("{}.port: no port named \"{}\" in this container's ports", at, text)));
    };
    auto host_of = [](const YAML::Node& handler, bool& remote) {
        std::string host = scalar_or(get(handler, "host"), "127.0.0.1");
        remote = host != "127.0.0.1" && host != "localhost" && host != "::1";
        return host.find(':') != std::string::npos ? "[" + host + "]" : host;
    };
    ProbeTarget out;
    if (YAML::Node http = get(probe, "httpGet")) {
        auto port = port_of(http, path + ".httpGet");
        if (!port) return make_error(port.error());
        std::string scheme = scalar_or(get(http, "scheme"), "HTTP");
        bool https = scheme == "HTTPS" || scheme == "https";
        std::string request = scalar_or(get(http, "path"), "/");
        if (request.empty() || request[0] != '/') request = "/" + request;
        // The kubelet never verifies a probe's certificate.
        std::string url = fmt::format("{}://{}:{}{}{}", https ? "https" : "http", host_of(http, out.remote), *port,
                                      request, https ? "#insecure=true" : "");
        if (auto parsed = parse_target(url); !parsed) return make_error(where.at(path + ".httpGet: " + parsed.error()));
        YAML::Node headers = get(http, "httpHeaders");
        if (headers.IsSequence() && headers.size() > 0) {
            std::vector<std::string> lines;
            for (const auto& h : headers) lines.push_back(name_of(h) + ":" + scalar_or(get(h, "value")));
            out.target = map_of({{"url", str(url)}, {"header", seq_of(lines)}});
        } else {
            out.target = str(url);
        }
        return out;
    }
    if (YAML::Node tcp = get(probe, "tcpSocket")) {
        auto port = port_of(tcp, path + ".tcpSocket");
        if (!port) return make_error(port.error());
        out.target = str(fmt::format("tcp://{}:{}", host_of(tcp, out.remote), *port));
        return out;
    }
    if (YAML::Node grpc = get(probe, "grpc")) {
        // The kubelet's gRPC probe: plaintext Health/Check on the pod's IP,
        // for one service or (none given) the whole server.
        auto port = port_of(grpc, path + ".grpc");
        if (!port) return make_error(port.error());
        std::string service = scalar_or(get(grpc, "service"));
        std::string url = fmt::format("grpc://127.0.0.1:{}", *port);
        if (!service.empty()) url += "#service=" + percent_encode(service);
        if (auto parsed = parse_target(url); !parsed) return make_error(where.at(path + ".grpc: " + parsed.error()));
        out.target = str(url);
        return out;
    }
    return make_error("");  // exec: kept as it is
}

long seconds_or(const YAML::Node& probe, const char* key, long fallback) {
    std::string text = scalar_or(get(probe, key));
    if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit) || text.size() > 6) return fallback;
    return std::stol(text);
}

// The probe with its handler replaced by serve's endpoint (an httpGet, or an
// exec of `probe --from` serve's socket, whose output reaches the events),
// every other field (thresholds, period, initial delay) in place.
YAML::Node serve_probe(const YAML::Node& probe, const std::string& endpoint_path, const std::string& binary,
                       const InjectOptions& options) {
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& entry : probe) {
        std::string key = entry.first.Scalar();
        if (key != "httpGet" && key != "tcpSocket" && key != "grpc") {
            out[entry.first] = entry.second;
        } else if (options.exec_probes) {
            out["exec"] = map_of({{"command", seq_of({binary, "probe", "--from", std::string("unix://") + k_socket,
                                                      endpoint_path})}});
        } else {
            out["httpGet"] = map_of({{"path", str(endpoint_path)}, {"port", num(options.serve_port)}});
        }
    }
    return out;
}

struct Injection {
    std::vector<std::string> wrapped, probes_moved, notes;
    YAML::Node serve_groups{YAML::NodeType::Map};
};

Expected<YAML::Node> entrypoint_for(const YAML::Node& container, const std::string& name, const InjectOptions& options) {
    YAML::Node command = get(container, "command");
    if (command) {
        if (!command.IsSequence() || command.size() == 0) return make_error("command: expected a non-empty list");
        for (const auto& word : command) {
            if (!word.IsScalar()) return make_error("command: expected a list of strings");
        }
        return command;
    }
    const EntrypointOverride* chosen = nullptr;
    for (const EntrypointOverride& e : options.entrypoints) {
        if (e.container == name || (e.container.empty() && !chosen)) chosen = &e;
    }
    if (!chosen) {
        return make_error(
            "no command:, so the image's ENTRYPOINT runs and cannot be wrapped without knowing it; give --entrypoint "
            "'CMD ARGS' (or --entrypoint " + name + "='CMD ARGS'), or leave this container out with --container");
    }
    return seq_of(chosen->words);
}

bool already_wrapped(const YAML::Node& container) {
    YAML::Node command = get(container, "command");
    return command.IsSequence() && command.size() >= 2 && command[0].IsScalar() &&
           command[0].Scalar().ends_with("/healthgate") && scalar_or(command[1]) == "run";
}

std::optional<std::string> check_conflicts(const YAML::Node& spec, const Where& where, std::uint16_t serve_port,
                                           bool serve) {
    for (const char* list : {"initContainers", "volumes"}) {
        YAML::Node items = get(spec, list);
        if (!items) continue;
        if (!items.IsSequence()) return where.at(fmt::format("spec.{}: expected a list", list));
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (ours(name_of(items[i]))) {
                return where.at(fmt::format("spec.{}[{}]: the name \"{}\" is taken (healthgate inject adds it); rename it",
                                            list, i, name_of(items[i])));
            }
        }
    }
    if (!serve) return std::nullopt;
    for (const char* list : {"containers", "initContainers"}) {
        YAML::Node items = get(spec, list);
        if (!items.IsSequence()) continue;
        for (std::size_t i = 0; i < items.size(); ++i) {
            YAML::Node ports = get(items[i], "ports");
            if (!ports.IsSequence()) continue;
            for (const auto& p : ports) {
                if (scalar_or(get(p, "containerPort")) == std::to_string(serve_port)) {
                    return where.at(fmt::format("spec.{}[{}]: already uses port {}; give --serve-port", list, i, serve_port));
                }
            }
        }
    }
    return std::nullopt;
}

YAML::Node container_mount(const char* volume, const char* path, bool read_only = false) {
    YAML::Node mount = map_of({{"name", str(volume)}, {"mountPath", str(path)}});
    if (read_only) mount["readOnly"] = YAML::Node("true");
    return mount;
}

void append(YAML::Node parent, const char* key, const YAML::Node& item, YAML::Node record_fields) {
    if (!get(parent, key).IsSequence()) {
        if (record_fields) record_fields[key] = YAML::Node(YAML::NodeType::Null);
        parent[key] = YAML::Node(YAML::NodeType::Sequence);
    }
    get(parent, key).push_back(item);
}

std::string serve_config_text(const YAML::Node& groups, std::uint16_t port) {
    YAML::Node config(YAML::NodeType::Map);
    config["listen"] = str(fmt::format(":{}", port));
    config["containers"] = groups;
    return emit_yaml(config);
}

// Injects into one pod template. Returns the ConfigMap serve needs, if any.
Expected<std::optional<YAML::Node>> inject_template(const Template& t, const InjectOptions& options,
                                                    std::set<std::string>& matched, std::vector<std::string>& summary) {
    YAML::Node spec = get(t.holder, "spec");
    if (!spec.IsMap()) return make_error(t.where.at("spec: expected a pod spec"));
    YAML::Node containers = get(spec, "containers");
    if (!containers.IsSequence()) return make_error(t.where.at("spec.containers: expected a list"));
    if (auto problem = check_conflicts(spec, t.where, options.serve_port, options.serve)) return make_error(*problem);

    const bool image_volume = options.image_volume;
    const std::string binary = fmt::format("{}/healthgate", image_volume ? k_image_mount : k_mount);
    YAML::Node record(YAML::NodeType::Map);
    YAML::Node saved(YAML::NodeType::Map);
    Injection done;
    std::vector<std::string> errors;
    // Names are unique across init and app containers (the apiserver says so
    // too); inject's record and serve's groups are keyed by them.
    std::set<std::string> names;
    for (const char* list : {"initContainers", "containers"}) {
        YAML::Node items = get(spec, list);
        if (!items.IsSequence()) continue;
        for (std::size_t i = 0; i < items.size(); ++i) {
            std::string name = name_of(items[i]);
            if (!name.empty() && !names.insert(name).second) {
                return make_error(t.where.at(fmt::format("spec.{}[{}]: a second container named \"{}\"", list, i, name)));
            }
        }
    }
    for (std::size_t i = 0; i < containers.size(); ++i) {
        YAML::Node container = containers[i];
        std::string path = fmt::format("spec.containers[{}]", i);
        std::string name = name_of(container);
        if (name.empty()) return make_error(t.where.at(path + ": a container needs a name"));
        if (!options.containers.empty() &&
            std::find(options.containers.begin(), options.containers.end(), name) == options.containers.end()) {
            continue;
        }
        matched.insert(name);
        if (already_wrapped(container)) {
            done.notes.push_back(name + " already runs healthgate run (left as it is)");
            continue;
        }
        auto entrypoint = entrypoint_for(container, name, options);
        if (!entrypoint) {
            errors.push_back(t.where.at(fmt::format("{} ({}): {}", path, name, entrypoint.error())));
            continue;
        }
        YAML::Node fields(YAML::NodeType::Map);
        auto remember = [&](const char* key) {
            YAML::Node old = get(container, key);
            fields[key] = old ? deep_copy(old) : YAML::Node(YAML::NodeType::Null);
        };
        remember("command");
        remember("terminationMessagePolicy");
        YAML::Node command = seq_of({binary, "run", fmt::format("--history={}/history-{}", k_mount, name), "--"});
        for (const auto& word : *entrypoint) command.push_back(deep_copy(word));
        container["command"] = command;
        container["terminationMessagePolicy"] = str("FallbackToLogsOnError");

        // serve's checks: the container's own probes, each run as often as
        // the kubelet ran it, the kubelet keeping the thresholds.
        YAML::Node checks(YAML::NodeType::Sequence);
        std::vector<std::string> moved;
        for (int k = 0; k < 3; ++k) {
            YAML::Node probe = get(container, k_probe_keys[k]);
            if (!probe || !probe.IsMap()) continue;
            std::string probe_path = path + "." + k_probe_keys[k];
            auto target = probe_target(probe, container, t.where, probe_path);
            if (!target) {
                if (!target.error().empty()) return make_error(target.error());
                continue;
            }
            YAML::Node check(YAML::NodeType::Map);
            check["name"] = str(k_probe_names[k]);
            check["target"] = target->target;
            check["probes"] = seq_of({k_probe_names[k]});
            check["interval"] = str(fmt::format("{}s", seconds_or(probe, "periodSeconds", 10)));
            check["timeout"] = str(fmt::format("{}s", seconds_or(probe, "timeoutSeconds", 1)));
            check["failure_threshold"] = num(1);
            check["success_threshold"] = num(1);
            if (k == 1 && target->remote) check["allow_remote_liveness"] = YAML::Node("true");
            checks.push_back(check);
            if (options.rewrite_probes) {
                remember(k_probe_keys[k]);
                container[k_probe_keys[k]] =
                    serve_probe(probe, fmt::format("/{}/{}", name, k_endpoints[k]), binary, options);
                moved.push_back(k_probe_names[k]);
            }
        }
        if (options.serve && checks.size() > 0) {
            done.serve_groups[name] = map_of({{"checks", checks}});
        }
        if (!moved.empty()) {
            std::string list;
            for (const std::string& m : moved) list += (list.empty() ? "" : ", ") + m;
            done.probes_moved.push_back(fmt::format("{} ({})", name, list));
        }
        append(container, "volumeMounts", container_mount(k_volume, k_mount), fields);
        if (image_volume) append(container, "volumeMounts", container_mount(k_image_volume, k_image_mount, true), fields);
        saved[name] = fields;
        done.wrapped.push_back(name);
    }
    if (!errors.empty()) {
        std::string all;
        for (const std::string& e : errors) all += (all.empty() ? "" : "\n") + e;
        return make_error(all);
    }
    if (done.wrapped.empty()) {
        for (const std::string& note : done.notes) summary.push_back(fmt::format("{}{}: {}", t.where.prefix, t.workload, note));
        return std::optional<YAML::Node>();
    }
    // serve needs a check: a pod template without an httpGet, tcpSocket or grpc probe gets no sidecar.
    const bool serve = options.serve && done.serve_groups.size() > 0;
    if (options.serve && !serve) done.notes.push_back("no httpGet, tcpSocket or grpc probe to serve: no serve sidecar");

    // Init containers, in the order they run: copy, gate, sidecar, then the pod's own.
    YAML::Node init(YAML::NodeType::Sequence);
    if (!image_volume) {
        init.push_back(map_of({{"name", str(k_install)},
                               {"image", str(options.image)},
                               {"args", seq_of({"install", k_mount})},
                               {"volumeMounts", [] {
                                    YAML::Node m(YAML::NodeType::Sequence);
                                    m.push_back(container_mount(k_volume, k_mount));
                                    return m;
                                }()}}));
    }
    if (!options.wait_targets.empty()) {
        std::vector<std::string> args = {"wait"};
        args.insert(args.end(), options.wait_targets.begin(), options.wait_targets.end());
        init.push_back(map_of({{"name", str(k_wait)}, {"image", str(options.image)}, {"args", seq_of(args)}}));
    }
    std::optional<YAML::Node> config_map;
    std::string config_name = t.name + "-healthgate";
    if (serve) {
        const bool inline_config = options.serve_config_inline;
        YAML::Node text(serve_config_text(done.serve_groups, options.serve_port));
        text.SetTag("!");
        YAML::Node args = inline_config ? seq_of({"serve"})
                                        : seq_of({"serve", "--config", std::string(k_config_mount) + "/serve.yaml"});
        for (const char* arg : {"--socket", k_socket, "--histories", k_mount}) args.push_back(str(arg));
        YAML::Node sidecar = map_of({{"name", str(k_serve)},
                                     {"image", str(options.image)},
                                     {"restartPolicy", str("Always")},
                                     {"args", args}});
        if (inline_config) {
            YAML::Node env(YAML::NodeType::Sequence);
            env.push_back(map_of({{"name", str("HEALTHGATE_CONFIG_YAML")}, {"value", text}}));
            sidecar["env"] = env;
        }
        YAML::Node port(YAML::NodeType::Sequence);
        port.push_back(map_of({{"name", str("healthgate")}, {"containerPort", num(options.serve_port)}}));
        sidecar["ports"] = port;
        sidecar["resources"] = map_of({{"requests", map_of({{"cpu", str("10m")}, {"memory", str("16Mi")}})},
                                       {"limits", map_of({{"memory", str("32Mi")}})}});
        YAML::Node mounts(YAML::NodeType::Sequence);
        if (!inline_config) mounts.push_back(container_mount(k_config_volume, k_config_mount, true));
        mounts.push_back(container_mount(k_volume, k_mount));
        sidecar["volumeMounts"] = mounts;
        init.push_back(sidecar);

        if (!inline_config) {
            YAML::Node metadata = map_of({{"name", str(config_name)}});
            if (t.namespace_) metadata["namespace"] = deep_copy(t.namespace_);
            metadata["labels"] = map_of({{k_managed_label, str(k_managed_value)}});
            YAML::Node data(YAML::NodeType::Map);
            data["serve.yaml"] = text;
            config_map =
                map_of({{"apiVersion", str("v1")}, {"kind", str("ConfigMap")}, {"metadata", metadata}, {"data", data}});
        }
    }
    YAML::Node old_init = get(spec, "initContainers");
    if (!old_init) record["initContainers"] = YAML::Node(YAML::NodeType::Null);
    if (old_init && old_init.IsSequence()) {
        for (const auto& item : old_init) init.push_back(item);
    }
    if (init.size() > 0) spec["initContainers"] = init;

    YAML::Node volume = map_of({{"name", str(k_volume)}, {"emptyDir", map_of({{"sizeLimit", str("16Mi")}})}});
    YAML::Node record_pod(YAML::NodeType::Map);
    append(spec, "volumes", volume, record_pod);
    if (image_volume) {
        append(spec, "volumes",
               map_of({{"name", str(k_image_volume)},
                       {"image", map_of({{"reference", str(options.image)}, {"pullPolicy", str("IfNotPresent")}})}}),
               record_pod);
    }
    if (serve && !options.serve_config_inline) {
        append(spec, "volumes", map_of({{"name", str(k_config_volume)}, {"configMap", map_of({{"name", str(config_name)}})}}),
               record_pod);
    }
    if (get(record_pod, "volumes")) record["volumes"] = YAML::Node(YAML::NodeType::Null);
    record["containers"] = saved;

    YAML::Node holder = t.holder;
    if (!get(holder, "metadata").IsMap()) {
        record["metadata"] = YAML::Node(YAML::NodeType::Null);
        holder["metadata"] = YAML::Node(YAML::NodeType::Map);
    }
    YAML::Node metadata = get(holder, "metadata");
    if (!get(metadata, "annotations").IsMap()) {
        record["annotations"] = YAML::Node(YAML::NodeType::Null);
        metadata["annotations"] = YAML::Node(YAML::NodeType::Map);
    }
    YAML::Node annotations = get(metadata, "annotations");
    annotations[k_annotation] = str(emit_yaml_flow(record));

    std::string line = fmt::format("{}{}: wrapped {}", t.where.prefix, t.workload, fmt::join(done.wrapped, ", "));
    std::vector<std::string> added;
    for (const auto& item : init) {
        if (ours(name_of(item))) added.push_back(name_of(item));
    }
    line += fmt::format("; init containers +{}", fmt::join(added, " +"));
    if (!done.probes_moved.empty()) line += fmt::format("; probes behind serve: {}", fmt::join(done.probes_moved, ", "));
    if (config_map) line += fmt::format("; ConfigMap {}", config_name);
    for (const std::string& note : done.notes) line += "; " + note;
    summary.push_back(line);
    return config_map;
}

std::optional<Template> template_of(YAML::Node object, const Where& where) {
    std::string kind = scalar_or(get(object, "kind"));
    std::string name = scalar_or(get(get(object, "metadata"), "name"));
    Template t{YAML::Node(), where, kind + "/" + name, name, get(get(object, "metadata"), "namespace")};
    if (kind == "Pod") {
        t.holder = object;
    } else if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet" ||
               kind == "ReplicationController" || kind == "Job") {
        t.holder = get(get(object, "spec"), "template");
        t.where.path += "spec.template.";
    } else if (kind == "CronJob") {
        t.holder = get(get(get(get(object, "spec"), "jobTemplate"), "spec"), "template");
        t.where.path += "spec.jobTemplate.spec.template.";
    } else {
        return std::nullopt;
    }
    return t;
}

bool generated_config_map(const YAML::Node& object) {
    return scalar_or(get(object, "kind")) == "ConfigMap" &&
           scalar_or(get(get(get(object, "metadata"), "labels"), k_managed_label)) == k_managed_value;
}

// Transforms one object; `out` receives it and any ConfigMap it needs (before it).
std::optional<std::string> transform(YAML::Node object, const Where& where, const InjectOptions& options,
                                     std::set<std::string>& matched, std::vector<std::string>& summary,
                                     std::vector<YAML::Node>& out) {
    if (generated_config_map(object)) return std::nullopt;  // made again below, or removed
    std::string kind = scalar_or(get(object, "kind"));
    YAML::Node items = get(object, "items");
    if (kind.ends_with("List") && items.IsSequence()) {
        YAML::Node kept(YAML::NodeType::Sequence);
        for (std::size_t i = 0; i < items.size(); ++i) {
            Where item = where;
            item.path += fmt::format("items[{}].", i);
            std::vector<YAML::Node> produced;
            if (auto problem = transform(items[i], item, options, matched, summary, produced)) return problem;
            for (const auto& p : produced) kept.push_back(p);
        }
        object["items"] = kept;
        out.push_back(object);
        return std::nullopt;
    }
    auto t = template_of(object, where);
    if (t && t->holder.IsMap()) {
        if (t->name.empty()) return where.at("metadata.name: missing (healthgate inject names its ConfigMap after it)");
        bool removed = false;
        if (auto problem = remove_injection(*t, removed)) return problem;
        if (!options.remove) {
            auto config_map = inject_template(*t, options, matched, summary);
            if (!config_map) return config_map.error();
            if (*config_map) out.push_back(**config_map);
        } else if (removed) {
            summary.push_back(fmt::format("{}{}: restored", where.prefix, t->workload));
        }
    } else if (t) {
        std::string path = t->where.path.substr(0, t->where.path.size() - 1);
        return t->where.prefix + path + ": expected a pod template";
    }
    out.push_back(object);
    return std::nullopt;
}

}  // namespace

Expected<std::vector<std::string>> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (char c : text) {
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else {
                word += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote) return make_error(fmt::format("unbalanced {} quote", quote));
    if (in_word) words.push_back(std::move(word));
    if (words.empty()) return make_error("no command given");
    return words;
}

namespace {

// A document inject did not change, as it was written (comments, anchors,
// quoting and all), without its own `---` line (the output has its own).
// None when its start is not simple: directives, or content on the `---` line.
std::optional<std::string> as_written(const std::string& text) {
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        std::size_t next = end == std::string::npos ? text.size() : end + 1;
        std::string_view line = std::string_view(text).substr(at, next - at);
        std::size_t first = line.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos || line[first] == '#') {
            out += line;  // a blank or comment line before the document
            at = next;
            continue;
        }
        if (line[0] == '%') return std::nullopt;
        if (line.starts_with("---")) {
            std::size_t rest = line.find_first_not_of(" \t\r\n", 3);
            if (rest != std::string_view::npos && line[rest] != '#') return std::nullopt;
            at = next;
        }
        break;
    }
    out += text.substr(at);
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out;
}

// Whether `text` reads back as the document written `emitted` (yaml-cpp
// reads some inputs differently once a line break is added at their end).
bool reads_as(const std::string& text, const std::string& emitted) {
    try {
        std::vector<YAML::Node> back = load_all(text);
        return back.size() == 1 && emit_yaml(deep_copy(back[0])) == emitted;
    } catch (const YAML::Exception&) {
        return false;
    } catch (const TooManyNodes&) {
        return false;
    }
}

}  // namespace

Expected<InjectResult> inject_manifests(const std::string& text, const std::string& file, const InjectOptions& options) {
    std::vector<YamlDocument> documents;
    try {
        documents = load_documents(text);
    } catch (const YAML::Exception& e) {
        return make_error(fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    InjectResult result;
    std::set<std::string> matched;
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < documents.size(); ++i) {
        const YAML::Node& read = documents[i].node;
        if (!read || read.IsNull()) continue;
        Where where{fmt::format("{}: document {}: ", file, i + 1), ""};
        std::vector<YAML::Node> produced;
        YAML::Node document;
        try {
            document = deep_copy(read);
        } catch (const TooManyNodes&) {
            return make_error(fmt::format("{}more than {} nodes once its aliases are expanded (an alias bomb?)",
                                          where.prefix, k_max_nodes));
        }
        std::string before = emit_yaml(document);
        if (document.IsMap()) {
            if (auto problem = transform(document, where, options, matched, result.summary, produced)) {
                return make_error(*problem);
            }
        } else {
            produced.push_back(document);
        }
        // What inject did not change goes out as it came in, comments included.
        if (produced.size() == 1 && emit_yaml(produced[0]) == before) {
            if (auto same = as_written(documents[i].text); same && reads_as(*same, before)) {
                parts.push_back(std::move(*same));
                continue;
            }
        }
        for (const auto& node : produced) parts.push_back(emit_yaml(node));
    }
    if (!options.remove) {
        for (const std::string& name : options.containers) {
            if (!matched.count(name)) return make_error(fmt::format("{}: --container {}: no container of that name", file, name));
        }
    }
    for (std::size_t i = 0; i < parts.size(); ++i) result.yaml += (i ? "---\n" : "") + parts[i];
    return result;
}

}  // namespace healthgate::inject
