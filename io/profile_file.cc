// The PROFILE file: a database's stored disk profile decision (io/FORMAT.md).
#include <fmt/core.h>

#include <charconv>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "io/disk_detect.h"

namespace strata::io {

namespace {

constexpr std::string_view kMagicLine = "strata-profile 1";
constexpr size_t kProfileFileBytesMax = 4096;
constexpr uint64_t kProbeReadsMax = 1'000'000;

// The keys, in the order they must appear (the checksum line comes last).
constexpr std::string_view kKeys[] = {
    "profile",           "device",           "rotational",
    "rotational_trusted", "probed",          "probe.random_reads",
    "probe.sequential_reads", "probe.random_read_ns", "probe.sequential_read_ns",
    "probe.elapsed_us",  "reason"};

bool ParseUint(std::string_view s, uint64_t max, uint64_t* v) {
  if (s.empty() || s.size() > 20) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && end == s.data() + s.size() && *v <= max;
}

bool PrintableText(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string EncodeProfileFile(const ResolvedDiskProfile& r) {
  std::string out = std::string(kMagicLine) + "\n";
  auto text = [](std::string s) {  // one line each: no control bytes
    for (char& c : s) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return s;
  };
  out += fmt::format("profile {}\n", DiskProfileName(r.profile));
  out += fmt::format("device {}\n", text(r.device));
  out += fmt::format("rotational {}\n", r.rotational < 0 ? -1 : r.rotational > 0 ? 1 : 0);
  out += fmt::format("rotational_trusted {}\n", r.rotational_trusted ? 1 : 0);
  out += fmt::format("probed {}\n", r.probed ? 1 : 0);
  out += fmt::format("probe.random_reads {}\n", r.probe.random_reads);
  out += fmt::format("probe.sequential_reads {}\n", r.probe.sequential_reads);
  out += fmt::format("probe.random_read_ns {}\n", r.probe.random_read_ns);
  out += fmt::format("probe.sequential_read_ns {}\n", r.probe.sequential_read_ns);
  out += fmt::format("probe.elapsed_us {}\n", r.probe.elapsed_us);
  std::string reason = text(r.reason);
  // The whole file stays within kProfileFileBytesMax.
  if (reason.size() > 2048) reason.resize(2048);
  out += fmt::format("reason {}\n", reason);
  out += fmt::format("checksum {:016x}\n", Checksum64(out));
  return out;
}

Status DecodeProfileFile(std::string_view data, const std::string& path,
                         ResolvedDiskProfile* out) {
  auto bad = [&](size_t offset, std::string_view what) {
    return Status::Corruption(fmt::format(
        "{} @ {}: {} (the stored disk profile; remove the file to detect again, or set "
        "Options::profile / STRATA_PROFILE)",
        path, offset, what));
  };
  if (data.size() > kProfileFileBytesMax) {
    return bad(kProfileFileBytesMax, fmt::format("{} bytes, at most {}", data.size(),
                                                 kProfileFileBytesMax));
  }
  // Split into lines, each with its offset; every line ends in '\n'.
  std::vector<std::pair<size_t, std::string_view>> lines;
  for (size_t pos = 0; pos < data.size();) {
    const size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) return bad(pos, "last line has no newline (truncated?)");
    lines.emplace_back(pos, data.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (lines.empty() || lines[0].second != kMagicLine) {
    return bad(0, lines.empty() ? "empty" : "not a strata profile file of version 1");
  }
  constexpr size_t kKeyCount = std::size(kKeys);
  if (lines.size() != kKeyCount + 2) {
    return bad(lines.back().first, fmt::format("{} lines, expected {}", lines.size(),
                                               kKeyCount + 2));
  }
  const auto& [sum_offset, sum_line] = lines.back();
  uint64_t stored_sum = 0;
  const std::string_view sum_hex = sum_line.substr(std::min<size_t>(sum_line.size(), 9));
  if (sum_line.substr(0, 9) != "checksum " || sum_hex.size() != 16 ||
      std::from_chars(sum_hex.data(), sum_hex.data() + 16, stored_sum, 16).ptr !=
          sum_hex.data() + 16) {
    return bad(sum_offset, "expected 'checksum <16 hex digits>'");
  }
  if (Checksum64(data.substr(0, sum_offset)) != stored_sum) {
    return bad(sum_offset, "checksum mismatch");
  }
  ResolvedDiskProfile r;
  r.source = "stored";
  uint64_t v[kKeyCount] = {};
  for (size_t i = 0; i < kKeyCount; ++i) {
    const auto& [offset, line] = lines[i + 1];
    const std::string_view key = kKeys[i];
    if (line.substr(0, key.size()) != key || line.size() <= key.size() ||
        line[key.size()] != ' ') {
      return bad(offset, fmt::format("expected key '{}'", key));
    }
    const std::string_view value = line.substr(key.size() + 1);
    if (!PrintableText(value)) return bad(offset, "control byte in " + std::string(key));
    if (key == "profile") {
      if (value != "ssd" && value != "hdd") return bad(offset, "profile is not ssd or hdd");
      r.profile = value == "hdd" ? DiskProfile::kHdd : DiskProfile::kSsd;
    } else if (key == "device") {
      r.device = std::string(value);
    } else if (key == "reason") {
      if (value.empty()) return bad(offset, "empty reason");
      r.reason = std::string(value);
    } else if (key == "rotational") {
      if (value != "-1" && value != "0" && value != "1") return bad(offset, "rotational not -1/0/1");
      r.rotational = value == "-1" ? -1 : value == "1" ? 1 : 0;
    } else {
      const bool flag = key == "rotational_trusted" || key == "probed";
      const uint64_t max = flag ? 1 : key.ends_with("_reads") ? kProbeReadsMax : UINT64_MAX / 2;
      if (!ParseUint(value, max, &v[i])) {
        return bad(offset, fmt::format("{} is not a number in [0, {}]", key, max));
      }
    }
  }
  r.rotational_trusted = v[3] == 1;
  r.probed = v[4] == 1;
  r.probe.random_reads = static_cast<uint32_t>(v[5]);
  r.probe.sequential_reads = static_cast<uint32_t>(v[6]);
  r.probe.random_read_ns = v[7];
  r.probe.sequential_read_ns = v[8];
  r.probe.elapsed_us = v[9];
  const bool has_figures = r.probe.random_reads != 0 || r.probe.sequential_reads != 0 ||
                           r.probe.random_read_ns != 0 || r.probe.sequential_read_ns != 0;
  if (r.probed != has_figures || (r.probed && (r.probe.random_reads == 0 ||
                                               r.probe.sequential_reads == 0))) {
    return bad(lines[5].first, "probed does not match the probe figures");
  }
  if (r.rotational_trusted && r.rotational < 0) {
    return bad(lines[4].first, "a trusted rotational flag that was not read");
  }
  *out = std::move(r);
  return Status::Ok();
}

}  // namespace strata::io
