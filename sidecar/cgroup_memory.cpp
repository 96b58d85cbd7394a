#include "sidecar/cgroup_memory.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "common/text.hpp"

namespace healthgate::sidecar {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto digit = [&](std::size_t k) { return text[k] >= '0' && text[k] <= '7'; };
        if (text[i] == '\\' && i + 3 < text.size() && digit(i + 1) && digit(i + 2) && digit(i + 3)) {
            out += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += text[i];
    }
    return out;
}

// Fields separated by runs of spaces or tabs.
std::vector<std::string_view> fields_of(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) fields.push_back(line.substr(start, i - start));
    }
    return fields;
}

bool has_option(std::string_view options, std::string_view wanted) {
    for (std::string_view option : split(options, ',')) {
        if (option == wanted) return true;
    }
    return false;
}

// The cgroup's directory under a mount, or nothing when the cgroup lies
// outside what the mount shows.
std::optional<std::string> dir_under(const MountEntry& mount, const std::string& path) {
    std::string relative;
    if (mount.root == "/") {
        relative = path == "/" ? "" : path;
    } else if (path == mount.root) {
        relative = "";
    } else if (path.size() > mount.root.size() && path.compare(0, mount.root.size(), mount.root) == 0 &&
               path[mount.root.size()] == '/') {
        relative = path.substr(mount.root.size());
    } else {
        return std::nullopt;
    }
    return mount.mount_point + relative;
}

}  // namespace

std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text) {
    std::vector<CgroupEntry> entries;
    for (std::string_view line : split(text, '\n')) {
        if (line.empty()) continue;
        auto first = line.find(':');
        if (first == std::string_view::npos) continue;
        auto second = line.find(':', first + 1);
        if (second == std::string_view::npos) continue;
        CgroupEntry entry;
        std::string_view id = line.substr(0, first);
        if (std::from_chars(id.data(), id.data() + id.size(), entry.hierarchy).ec != std::errc{}) continue;
        std::string_view controllers = line.substr(first + 1, second - first - 1);
        if (!controllers.empty()) {
            for (std::string_view c : split(controllers, ',')) entry.controllers.emplace_back(c);
        }
        entry.path = std::string(line.substr(second + 1));
        entries.push_back(std::move(entry));
    }
    return entries;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
    std::vector<MountEntry> mounts;
    for (std::string_view line : split(text, '\n')) {
        auto fields = fields_of(line);
        // id parent dev root mount-point options [optional...] - fstype source super-options
        std::size_t dash = 6;
        while (dash < fields.size() && fields[dash] != "-") ++dash;
        if (fields.size() < 6 || dash + 2 >= fields.size()) continue;
        MountEntry mount;
        mount.root = unescape_octal(fields[3]);
        mount.mount_point = unescape_octal(fields[4]);
        mount.fs_type = std::string(fields[dash + 1]);
        mount.super_options = dash + 3 < fields.size() ? std::string(fields[dash + 3]) : std::string();
        mounts.push_back(std::move(mount));
    }
    return mounts;
}

std::vector<CgroupDir> memory_cgroup_candidates(const std::vector<CgroupEntry>& cgroups,
                                                const std::vector<MountEntry>& mounts) {
    std::vector<CgroupDir> candidates;
    auto add = [&](CgroupVersion version, std::string dir) {
        for (const CgroupDir& c : candidates) {
            if (c.dir == dir) return;
        }
        candidates.push_back(CgroupDir{version, std::move(dir)});
    };
    for (CgroupVersion version : {CgroupVersion::v2, CgroupVersion::v1}) {
        const CgroupEntry* entry = nullptr;
        for (const CgroupEntry& e : cgroups) {
            bool match = version == CgroupVersion::v2
                             ? (e.hierarchy == 0 && e.controllers.empty())
                             : std::find(e.controllers.begin(), e.controllers.end(), "memory") != e.controllers.end();
            if (match) entry = &e;
        }
        if (!entry) continue;
        std::vector<const MountEntry*> matching;
        for (const MountEntry& m : mounts) {
            bool match = version == CgroupVersion::v2 ? m.fs_type == "cgroup2"
                                                      : (m.fs_type == "cgroup" && has_option(m.super_options, "memory"));
            if (match) matching.push_back(&m);
        }
        for (const MountEntry* m : matching) {
            if (auto dir = dir_under(*m, entry->path)) add(version, *dir);
        }
        // A cgroup outside every mount's root (moved after the mount was made):
        // the mount point itself is the best remaining guess.
        for (const MountEntry* m : matching) add(version, m->mount_point);
    }
    return candidates;
}

Expected<std::uint64_t> parse_counter(std::string_view text) {
    std::string_view value = trim(text);
    std::uint64_t number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) {
        return make_error(fmt::format("expected a number, got \"{}\"", value.substr(0, 40)));
    }
    return number;
}

Expected<std::optional<std::uint64_t>> parse_limit(std::string_view text) {
    if (trim(text) == "max") return std::optional<std::uint64_t>{};
    auto number = parse_counter(text);
    if (!number) return Error{number.error()};
    // v1 reports "no limit" as the page counter's maximum rounded to pages.
    constexpr std::uint64_t k_unlimited_from = std::uint64_t{1} << 62;
    if (*number >= k_unlimited_from) return std::optional<std::uint64_t>{};
    return std::optional<std::uint64_t>{*number};
}

std::optional<std::uint64_t> find_key_value(std::string_view text, std::string_view key) {
    for (std::string_view line : split(text, '\n')) {
        auto fields = fields_of(line);
        if (fields.size() == 2 && fields[0] == key) {
            if (auto n = parse_counter(fields[1])) return *n;
        }
    }
    return std::nullopt;
}

Expected<MemoryEvents> parse_memory_events(std::string_view text) {
    auto kill = find_key_value(text, "oom_kill");
    if (!kill) return make_error("memory.events: no oom_kill line");
    MemoryEvents events;
    events.oom_kill = *kill;
    events.high = find_key_value(text, "high").value_or(0);
    events.max = find_key_value(text, "max").value_or(0);
    events.oom = find_key_value(text, "oom").value_or(0);
    events.oom_group_kill = find_key_value(text, "oom_group_kill").value_or(0);
    return events;
}

Expected<OomControl> parse_oom_control(std::string_view text) {
    auto disable = find_key_value(text, "oom_kill_disable");
    auto under = find_key_value(text, "under_oom");
    if (!disable || !under) return make_error("memory.oom_control: expected oom_kill_disable and under_oom lines");
    OomControl control;
    control.oom_kill_disable = *disable != 0;
    control.under_oom = *under != 0;
    control.oom_kill = find_key_value(text, "oom_kill");
    return control;
}

Expected<Pressure> parse_pressure(std::string_view text) {
    Pressure pressure;
    bool some = false;
    for (std::string_view line : split(text, '\n')) {
        auto fields = fields_of(line);
        if (fields.empty() || (fields[0] != "some" && fields[0] != "full")) continue;
        double avg10 = -1, avg60 = -1;
        std::uint64_t total = 0;
        for (std::string_view field : fields) {
            auto equals = field.find('=');
            if (equals == std::string_view::npos) continue;
            std::string_view key = field.substr(0, equals), value = field.substr(equals + 1);
            if (key == "total") {
                if (auto n = parse_counter(value)) total = *n;
                continue;
            }
            double number = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
            if (ec != std::errc{} || end != value.data() + value.size()) continue;
            if (key == "avg10") avg10 = number;
            if (key == "avg60") avg60 = number;
        }
        if (avg10 < 0 || avg60 < 0) return make_error(fmt::format("memory.pressure: cannot read \"{}\"", line.substr(0, 60)));
        if (fields[0] == "some") {
            pressure.some_avg10 = avg10;
            pressure.some_avg60 = avg60;
            pressure.some_total_us = total;
            some = true;
        } else {
            pressure.full_avg10 = avg10;
            pressure.full_avg60 = avg60;
            pressure.full_total_us = total;
        }
    }
    if (!some) return make_error("memory.pressure: no \"some\" line");
    return pressure;
}

std::vector<CgroupLevel> walk_cgroup_levels(CgroupVersion version, const std::string& leaf, ReadFile read,
                                            void* context) {
    bool v2 = version == CgroupVersion::v2;
    const std::string max_file = v2 ? "/memory.max" : "/memory.limit_in_bytes";
    const std::string marker = v2 ? "/cgroup.controllers" : "/memory.limit_in_bytes";
    auto limit_in = [&](const std::string& path) -> std::optional<std::uint64_t> {
        auto text = read(path, context);
        if (!text) return std::nullopt;
        auto limit = parse_limit(*text);
        return limit ? *limit : std::nullopt;
    };
    std::vector<CgroupLevel> levels;
    std::string dir = leaf;
    constexpr int k_max_depth = 64;
    for (int depth = 0; depth < k_max_depth; ++depth) {
        CgroupLevel level;
        level.dir = dir;
        level.depth = depth;
        level.max = limit_in(dir + max_file);
        if (v2) level.high = limit_in(dir + "/memory.high");
        levels.push_back(std::move(level));
        auto slash = dir.rfind('/');
        if (slash == std::string::npos || slash == 0) break;
        std::string parent = dir.substr(0, slash);
        if (!read(parent + marker, context)) break;  // above the mount: the root we can see
        dir = std::move(parent);
    }
    return levels;
}

const CgroupLevel* tightest_level(const std::vector<CgroupLevel>& levels, bool high) {
    const CgroupLevel* best = nullptr;
    for (const CgroupLevel& level : levels) {
        const auto& value = high ? level.high : level.max;
        if (!value) continue;
        const auto& best_value = best ? (high ? best->high : best->max) : value;
        if (!best || *value < *best_value) best = &level;
    }
    return best;
}

std::string level_name(const CgroupLevel& level) {
    if (level.depth == 0) return "container";
    std::string_view name = level.dir;
    if (auto slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
    if (name == "kubepods" || name == "kubepods.slice") return "node allocatable";
    if (name == "burstable" || name == "besteffort" || name == "kubepods-burstable.slice" ||
        name == "kubepods-besteffort.slice") {
        return fmt::format("QoS class {}", name);
    }
    if (name.find("pod") != std::string_view::npos) return "pod";
    return fmt::format("parent cgroup {}", name);
}

std::optional<std::uint64_t> parse_status_hwm(std::string_view text) {
    for (std::string_view line : split(text, '\n')) {
        if (line.substr(0, 6) != "VmHWM:") continue;
        auto fields = fields_of(line.substr(6));
        if (fields.empty()) return std::nullopt;
        auto kib = parse_counter(fields[0]);
        if (!kib) return std::nullopt;
        return *kib * 1024;
    }
    return std::nullopt;
}

// --- I/O ---------------------------------------------------------------------

namespace {

int open_read(const std::string& path) { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }

// Re-reads a small kernel file from its start through a descriptor kept open.
std::optional<std::string> pread_all(int fd) {
    if (fd < 0) return std::nullopt;
    char buffer[1024];
    std::string text;
    off_t offset = 0;
    while (text.size() < 16384) {
        ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
    return text;
}

std::optional<std::string> read_file(const std::string& path) {
    int fd = open_read(path);
    if (fd < 0) return std::nullopt;
    auto text = pread_all(fd);
    ::close(fd);
    return text;
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// The files a memory cgroup is read through, per version. A candidate is
// used when its limit opens, and its peak (v1) or its events (v2): the one
// each version cannot do without (v2 before Linux 5.19 has no memory.peak).
struct MemoryFiles {
    MemorySource source;
    const char* limit;
    const char* peak;
    const char* events;
    const char* current;
    bool peak_required;
};
constexpr MemoryFiles k_v2_files{MemorySource::cgroup_v2, "memory.max", "memory.peak", "memory.events",
                                 "memory.current", false};
constexpr MemoryFiles k_v1_files{MemorySource::cgroup_v1, "memory.limit_in_bytes", "memory.max_usage_in_bytes",
                                 "memory.oom_control", "memory.usage_in_bytes", true};

}  // namespace

MemoryMonitor MemoryMonitor::open(const std::optional<std::string>& override_dir) {
    MemoryMonitor monitor;
    std::vector<CgroupDir> candidates;
    if (override_dir) {
        if (*override_dir == "none" || override_dir->empty()) return monitor;
        std::string dir = *override_dir;
        while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
        candidates.push_back({CgroupVersion::v2, dir});
        candidates.push_back({CgroupVersion::v1, dir});
    } else {
        auto cgroups = read_file("/proc/self/cgroup");
        auto mounts = read_file("/proc/self/mountinfo");
        if (!cgroups || !mounts) return monitor;
        candidates = memory_cgroup_candidates(parse_proc_cgroup(*cgroups), parse_mountinfo(*mounts));
    }
    for (const CgroupDir& candidate : candidates) {
        const MemoryFiles& files = candidate.version == CgroupVersion::v2 ? k_v2_files : k_v1_files;
        auto open_file = [&](const char* name) { return open_read(candidate.dir + "/" + name); };
        int limit = open_file(files.limit);
        int peak = open_file(files.peak);
        int events = open_file(files.events);
        if (limit < 0 || (files.peak_required ? peak : events) < 0) {
            close_fd(limit);
            close_fd(peak);
            close_fd(events);
            continue;
        }
        monitor.source_ = files.source;
        monitor.limit_fd_ = limit;
        monitor.peak_fd_ = peak;
        monitor.events_fd_ = events;
        monitor.current_fd_ = open_file(files.current);
        monitor.peak_sampled_ = peak < 0;  // v2 before 5.19 has no memory.peak: sampled from current
        monitor.dir_ = candidate.dir;
        monitor.open_levels(candidate.version);
        return monitor;
    }
    return monitor;
}

// Above the container's own cgroup (pod-level resources, a parent with a
// limit): the tightest memory.max along the way holds the limit, and peak
// and usage are read where it is, since that is what the kernel compares.
void MemoryMonitor::open_levels(CgroupVersion version) {
    auto read = [](const std::string& path, void*) { return read_file(path); };
    std::vector<CgroupLevel> levels = walk_cgroup_levels(version, dir_, read, nullptr);
    if (const CgroupLevel* level = tightest_level(levels, false)) {
        limit_level_ = *level;
        if (level->depth > 0) {
            const MemoryFiles& files = version == CgroupVersion::v2 ? k_v2_files : k_v1_files;
            auto reopen = [&](int& fd, const char* name) {
                int opened = open_read(level->dir + "/" + name);
                if (opened < 0) return;
                close_fd(fd);
                fd = opened;
            };
            reopen(limit_fd_, files.limit);
            reopen(current_fd_, files.current);
            if (!peak_sampled_) reopen(peak_fd_, files.peak);
            if (version == CgroupVersion::v2) limit_events_fd_ = open_read(level->dir + "/memory.events");
        }
    }
    if (version != CgroupVersion::v2) return;
    if (const CgroupLevel* level = tightest_level(levels, true)) {
        high_level_ = *level;
        high_fd_ = open_read(level->dir + "/memory.high");
    }
    pressure_fd_ = open_read(dir_ + "/memory.pressure");
    swap_fd_ = open_read(dir_ + "/memory.swap.current");
    if (auto text = read_file(dir_ + "/memory.oom.group")) {
        if (auto value = parse_counter(*text)) oom_group_ = *value != 0;
    }
}

std::vector<std::string> MemoryMonitor::events_paths() const {
    std::vector<std::string> paths;
    if (source_ != MemorySource::cgroup_v2) return paths;
    paths.push_back(dir_ + "/memory.events");
    if (limit_events_fd_ >= 0 && limit_level_) paths.push_back(limit_level_->dir + "/memory.events");
    return paths;
}

MemoryMonitor::MemoryMonitor(MemoryMonitor&& other) noexcept
    : source_(other.source_), dir_(std::move(other.dir_)), peak_fd_(other.peak_fd_), current_fd_(other.current_fd_),
      limit_fd_(other.limit_fd_), events_fd_(other.events_fd_), limit_events_fd_(other.limit_events_fd_),
      high_fd_(other.high_fd_), pressure_fd_(other.pressure_fd_), swap_fd_(other.swap_fd_),
      limit_level_(std::move(other.limit_level_)), high_level_(std::move(other.high_level_)),
      oom_group_(other.oom_group_), peak_sampled_(other.peak_sampled_), sampled_max_(other.sampled_max_),
      slow_(std::move(other.slow_)), slow_read_at_(other.slow_read_at_) {
    for (int* fd : {&other.peak_fd_, &other.current_fd_, &other.limit_fd_, &other.events_fd_, &other.limit_events_fd_,
                    &other.high_fd_, &other.pressure_fd_, &other.swap_fd_}) {
        *fd = -1;
    }
}

MemoryMonitor::~MemoryMonitor() {
    for (int* fd : {&peak_fd_, &current_fd_, &limit_fd_, &events_fd_, &limit_events_fd_, &high_fd_, &pressure_fd_,
                    &swap_fd_}) {
        close_fd(*fd);
    }
}

MemorySample MemoryMonitor::sample(pid_t app) {
    MemorySample s;
    auto number = [](const std::optional<std::string>& text) -> std::optional<std::uint64_t> {
        if (!text) return std::nullopt;
        auto n = parse_counter(*text);
        return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
    };
    if (source_ == MemorySource::rusage) {
        if (app > 0) {
            if (auto status = read_file(fmt::format("/proc/{}/status", app))) s.peak = parse_status_hwm(*status);
        }
        return s;
    }
    s.current = number(pread_all(current_fd_));
    if (peak_sampled_) {
        if (s.current) sampled_max_ = std::max(sampled_max_, *s.current);
        if (sampled_max_ > 0) s.peak = sampled_max_;
    } else {
        s.peak = number(pread_all(peak_fd_));
    }
    // Figures that change seldom or (PSI) only every 2 s are read at most every
    // k_slow_figures_every: near the limit the samples come every few ms.
    auto now = std::chrono::steady_clock::now();
    bool read_slow = !slow_read_at_ || now - *slow_read_at_ >= k_slow_figures_every;
    if (read_slow) {
        slow_read_at_ = now;
        slow_ = MemorySample{};
        if (auto text = pread_all(limit_fd_)) {
            if (auto limit = parse_limit(*text)) {
                slow_.limit = *limit;
                slow_.limit_known = true;
            }
        }
    }
    s.limit = slow_.limit;
    s.limit_known = slow_.limit_known;
    if (auto text = pread_all(events_fd_)) {
        if (source_ == MemorySource::cgroup_v2) {
            if (auto events = parse_memory_events(*text)) {
                s.oom_kills = events->oom_kill;
                s.events = *events;
            }
        } else if (auto control = parse_oom_control(*text)) {
            s.oom_kills = control->oom_kill;
        }
    }
    if (source_ != MemorySource::cgroup_v2) return s;
    s.limit_events = s.events;
    if (auto text = pread_all(limit_events_fd_)) {
        if (auto events = parse_memory_events(*text)) s.limit_events = *events;
    }
    if (read_slow) {
        if (auto text = pread_all(high_fd_)) {
            if (auto high = parse_limit(*text)) slow_.high = *high;
        }
        if (auto text = pread_all(pressure_fd_)) {
            if (auto pressure = parse_pressure(*text)) slow_.pressure = *pressure;
        }
        slow_.swap = number(pread_all(swap_fd_));
    }
    s.high = slow_.high;
    s.pressure = slow_.pressure;
    s.swap = slow_.swap;
    return s;
}

std::string MemoryMonitor::describe() const {
    switch (source_) {
        case MemorySource::cgroup_v2:
            return fmt::format("cgroup v2 {}{}", dir_, peak_sampled_ ? " (no memory.peak: peak sampled)" : "");
        case MemorySource::cgroup_v1: return fmt::format("cgroup v1 {}", dir_);
        case MemorySource::rusage: break;
    }
    return "ru_maxrss/VmHWM of the app and its children (no readable memory cgroup)";
}

}  // namespace healthgate::sidecar
