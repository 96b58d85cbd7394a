#include "probe/http_handler.hpp"

#include <charconv>
#include <fmt/format.h>
#include <optional>
#include <vector>

#include "common/text.hpp"
#include "probe/health_report.hpp"

namespace healthgate::probe {
namespace {

constexpr std::string_view k_endpoints = "endpoints: /startupz /livez /readyz [/CHECK], /CONTAINER/readyz ..., /metrics";

Response text(int status, std::string body) { return Response{status, k_content_text, std::move(body), false}; }

std::optional<ProbeKind> endpoint_kind(std::string_view segment) {
    for (ProbeKind kind : k_probe_kinds) {
        if (segment == probe_endpoint_name(kind)) return kind;
    }
    return std::nullopt;
}

struct Query {
    bool verbose = false;
    bool json = false;
    std::vector<std::string> exclude;
};

std::optional<Query> parse_query(std::string_view query, std::string_view accept, std::string& problem) {
    Query parsed;
    parsed.json = accept.find("application/json") != std::string_view::npos;
    for (std::string_view item : split(query, '&')) {
        if (item.empty()) continue;
        auto eq = item.find('=');
        std::string key, value;
        if (!percent_decode(item.substr(0, eq), key) ||
            !percent_decode(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1), value)) {
            problem = fmt::format("bad %-escape in query parameter \"{}\"", one_line(item, 128));
            return std::nullopt;
        }
        if (key == "verbose") {
            parsed.verbose = true;
        } else if (key == "exclude") {
            parsed.exclude.push_back(std::move(value));
        } else if (key == "format") {
            if (value == "json") parsed.json = true;
            else if (value == "text") parsed.json = false;
            else {
                problem = fmt::format("unknown format \"{}\" (use json or text)", one_line(value, 64));
                return std::nullopt;
            }
        }
        // Other parameters are ignored, as the apiserver does.
    }
    return parsed;
}

Response probe_response(const GroupEntry& group, ProbeKind kind, std::string_view check_name, const Query& query,
                        const Snapshot& snapshot) {
    ProbeVerdict verdict;
    if (check_name.empty()) {
        verdict = evaluate_probe(group, kind, snapshot, query.exclude);
    } else {
        const CheckEntry* found = nullptr;
        for (const CheckEntry& check : group.checks) {
            if (check.config.in(kind) && check.config.name == check_name) found = &check;
        }
        if (!found) {
            return text(404, fmt::format("no {} check named \"{}\"{}\n", probe_kind_name(kind), one_line(check_name, 256),
                                         group.name.empty() ? "" : " in container " + group.name));
        }
        verdict.kind = kind;
        verdict.checks.push_back(evaluate_check(group, *found, kind, snapshot));
        verdict.pass = verdict.checks.back().pass;
    }
    int status = verdict.pass ? 200 : 503;
    if (query.json) return Response{status, k_content_json, format_json(verdict, group, snapshot), false};
    return text(status, format_text(verdict, query.verbose));
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 431: return "Request Header Fields Too Large";
        case 503: return "Service Unavailable";
        default: return "Unknown";
    }
}

}  // namespace

std::string response_head(const Response& response, bool keep_alive, unsigned version) {
    // Plain appends: this runs for every request.
    char length[24];
    auto length_end = std::to_chars(length, length + sizeof length, response.body.size()).ptr;
    char status[8];
    auto status_end = std::to_chars(status, status + sizeof status, response.status).ptr;
    std::string head;
    head.reserve(160);
    head.append("HTTP/1.1 ").append(status, status_end).append(" ").append(reason_phrase(response.status));
    head.append("\r\nContent-Type: ").append(response.content_type);
    head.append("\r\nContent-Length: ").append(length, length_end);
    head.append("\r\nCache-Control: no-store\r\n");
    if (response.allow_get_head) head.append("Allow: GET, HEAD\r\n");
    if (!keep_alive) head.append("Connection: close\r\n");
    else if (version < 11) head.append("Connection: keep-alive\r\n");
    head.append("\r\n");
    return head;
}

Response handle(const Request& request, const Snapshot& snapshot) {
    if (request.method != "GET" && request.method != "HEAD") {
        Response response = text(405, fmt::format("method {} not allowed: use GET or HEAD\n", one_line(request.method, 32)));
        response.allow_get_head = true;
        return response;
    }
    std::string_view path = request.target, query;
    if (auto q = path.find('?'); q != std::string_view::npos) {
        query = path.substr(q + 1);
        path = path.substr(0, q);
    }
    if (path.empty() || path.front() != '/') return text(400, "bad request target: expected a path like /readyz\n");
    if (path == "/metrics") {
        return Response{200, k_content_metrics,
                        format_metrics(snapshot) + (snapshot.extra_metrics ? *snapshot.extra_metrics : std::string()), false};
    }

    // "/readyz[/NAME]" or "/CONTAINER/readyz[/NAME]"; NAME may itself hold '/'.
    std::string_view rest = path.substr(1);
    auto next_segment = [&rest]() {
        auto slash = rest.find('/');
        std::string_view segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
        return segment;
    };
    const std::vector<GroupEntry>& groups = *snapshot.groups;
    const GroupEntry* group = &groups.front();
    std::string_view segment = next_segment();
    auto kind = endpoint_kind(segment);
    if (!kind) {
        group = nullptr;
        for (const GroupEntry& candidate : groups) {
            if (!candidate.name.empty() && candidate.name == segment) group = &candidate;
        }
        if (group) kind = endpoint_kind(next_segment());
        if (!group || !kind) return text(404, fmt::format("not found: {}\n{}\n", one_line(path, 256), k_endpoints));
    }
    std::string check_name;
    if (!percent_decode(rest, check_name)) return text(400, "bad %-escape in the check name\n");

    std::string problem;
    auto parsed = parse_query(query, request.accept, problem);
    if (!parsed) return text(400, problem + "\n");
    return probe_response(*group, *kind, check_name, *parsed, snapshot);
}

}  // namespace healthgate::probe
