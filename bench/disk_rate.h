// The disk's sequential write rate, the physical limit that copying a state
// (a checkpoint, a snapshot stream, a snapshot install) is held to. Benches
// measure it in the same run and directory as what they compare with it.
#pragma once

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

namespace strata::bench {

// MB/s (10^6 bytes) of `mib` sequential 1 MiB pwrites of incompressible
// bytes to a new file in `dir`, and one fdatasync. The file is removed.
// Exits the process on an error (benches have nothing to fall back to).
inline double SequentialWriteRate(const std::string& dir, uint64_t mib) {
  const std::string path = dir + "/disk-rate";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0) {
    fmt::print(stderr, "{}: {}\n", path, std::strerror(errno));
    std::exit(1);
  }
  std::string buf(1 << 20, '\0');
  std::mt19937_64 rng(1);
  for (char& ch : buf) ch = static_cast<char>(rng());
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < mib; ++i) {
    if (::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(i << 20)) !=
        static_cast<ssize_t>(buf.size())) {
      fmt::print(stderr, "{}: short write\n", path);
      std::exit(1);
    }
  }
  ::fdatasync(fd);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(mib) * 1.048576 / s;
}

// Apparent bytes of every regular file below `dir`: what copying that state
// writes (the figure a copy's rate is computed from).
inline uint64_t TreeBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

}  // namespace strata::bench
