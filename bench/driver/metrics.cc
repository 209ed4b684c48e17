#include "bench/driver/metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace strata::bench {

namespace {

std::string ReadWhole(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Finds "name:" at a line start and parses the number after it.
std::optional<uint64_t> FindNumber(std::string_view text, std::string_view name) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      std::string_view rest = line.substr(name.size() + 1);
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      uint64_t v = 0;
      auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
      if (ec != std::errc() || ptr == rest.data()) return std::nullopt;
      return v;
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

}  // namespace

Result<ProcIo> ParseProcIo(std::string_view text) {
  auto wchar = FindNumber(text, "wchar");
  auto read = FindNumber(text, "read_bytes");
  auto write = FindNumber(text, "write_bytes");
  auto cancelled = FindNumber(text, "cancelled_write_bytes");
  if (!wchar || !read || !write || !cancelled) {
    return Status::Corruption("/proc/self/io: missing wchar/read_bytes/write_bytes");
  }
  return ProcIo{*wchar, *read, *write, *cancelled};
}

Result<ProcIo> ReadProcIo() { return ParseProcIo(ReadWhole("/proc/self/io")); }

Result<uint64_t> ParseStatusField(std::string_view text, std::string_view field) {
  auto kib = FindNumber(text, field);
  if (!kib) return Status::NotFound("/proc/self/status: no " + std::string(field));
  return *kib * 1024;
}

uint64_t PeakRssBytes() {
  auto v = ParseStatusField(ReadWhole("/proc/self/status"), "VmHWM");
  return v.ok() ? *v : 0;
}

bool ResetPeakRss() {
  // "5" resets the peak RSS (Documentation/filesystems/proc.rst).
  const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  ::close(fd);
  return ok;
}

uint64_t DirDiskBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  uint64_t total = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      // The smaller of allocated and apparent size: preallocated but unwritten
      // space (RocksDB's WAL) and holes (sparse files) hold no data.
      constexpr uint64_t kBlockBytes = 512;
      total += std::min(static_cast<uint64_t>(st.st_blocks) * kBlockBytes,
                        static_cast<uint64_t>(st.st_size));
    }
  }
  return total;
}

std::optional<double> Ratio(uint64_t numerator, uint64_t denominator) {
  if (denominator == 0) return std::nullopt;
  return static_cast<double>(numerator) / static_cast<double>(denominator);
}

std::optional<double> Ratio(double numerator, double denominator) {
  if (!(denominator > 0)) return std::nullopt;
  return numerator / denominator;
}

}  // namespace strata::bench
