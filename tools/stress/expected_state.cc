#include "tools/stress/expected_state.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/assert.h"

namespace strata::stress {

namespace {

constexpr uint64_t kStateMagic = 0x5354524553535633;  // "STRESSV3"
constexpr size_t kHeaderBytes = 128;
constexpr size_t kKeyBytes = 16;
constexpr size_t kLogEntryBytes = 40;

Status Errno(const std::string& path, std::string_view what) {
  return Status::IOError(fmt::format("{}: {}: {}", path, what, std::strerror(errno)));
}

}  // namespace

std::string KeyState::ToString() const {
  switch (kind) {
    case WriteKind::kNone:
      return "absent";
    case WriteKind::kPut:
      return fmt::format("put@{}", generation);
    case WriteKind::kDelete:
      return fmt::format("delete@{}", generation);
    case WriteKind::kVersioned:
      return fmt::format("versioned@{}", generation);
  }
  return "?";
}

std::atomic_ref<uint64_t> ExpectedState::Word(uint64_t key, int slot) const {
  STRATA_ASSERT(key < key_count_);
  return std::atomic_ref<uint64_t>(words_[kHeaderBytes / 8 + key * 2 + slot]);
}

std::atomic_ref<uint64_t> ExpectedState::LogWord(uint64_t index, int slot) const {
  STRATA_ASSERT(index < kLogCapacity);
  return std::atomic_ref<uint64_t>(
      words_[(kHeaderBytes + key_count_ * kKeyBytes + index * kLogEntryBytes) / 8 + slot]);
}

std::optional<uint64_t> ExpectedState::LogClaim(uint64_t n) {
  uint64_t count = log_count();
  do {
    if (n > kLogCapacity - count) return std::nullopt;
  } while (!Header(kLogCount).compare_exchange_weak(count, count + n));
  return count;
}

void ExpectedState::LogSet(uint64_t index, uint64_t key, KeyState before, KeyState after) {
  LogWord(index, 0).store(key);
  LogWord(index, 1).store(before.Encode());
  LogWord(index, 2).store(after.Encode());
  LogWord(index, 3).store(LogEntry::kNotYet);
  LogWord(index, 4).store(LogEntry::kNotYet);
}

bool ExpectedState::LogAppend(uint64_t key, KeyState before, KeyState after) {
  const std::optional<uint64_t> index = LogClaim(1);
  if (!index) return false;
  LogSet(*index, key, before, after);
  return true;
}

void ExpectedState::LogIssued(uint64_t first, uint64_t n, uint64_t ticket) {
  for (uint64_t i = first; i < first + n; ++i) LogWord(i, 3).store(ticket);
}

void ExpectedState::LogAcked(uint64_t first, uint64_t n, uint64_t ticket) {
  for (uint64_t i = first; i < first + n; ++i) LogWord(i, 4).store(ticket);
}

void ExpectedState::NoteLogWriters(uint64_t n) {
  uint64_t current = log_writers();
  while (current < n && !Header(kLogWriters).compare_exchange_weak(current, n)) {
  }
}

LogEntry ExpectedState::log_entry(uint64_t i) const {
  STRATA_ASSERT(i < log_count());
  return LogEntry{LogWord(i, 0).load(), KeyState::Decode(LogWord(i, 1).load()),
                  KeyState::Decode(LogWord(i, 2).load()), LogWord(i, 3).load(),
                  LogWord(i, 4).load()};
}

Status ExpectedState::Open(const std::string& path, uint64_t key_count,
                           std::unique_ptr<ExpectedState>* state) {
  if (key_count == 0) return Status::InvalidArgument("stress: key count is 0");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(path, "open");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Errno(path, "fstat");
  }
  const size_t bytes = kHeaderBytes + key_count * kKeyBytes + kLogCapacity * kLogEntryBytes;
  const bool fresh = st.st_size == 0;
  if (fresh && ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    return Errno(path, "ftruncate");
  }
  if (!fresh && static_cast<size_t>(st.st_size) != bytes) {
    ::close(fd);
    return Status::InvalidArgument(fmt::format(
        "{}: {} bytes, not an expected-state file for {} keys ({} bytes)", path, st.st_size,
        key_count, bytes));
  }
  void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return Errno(path, "mmap");
  auto* words = static_cast<uint64_t*>(map);
  if (fresh) {
    words[kKeyCount] = key_count;
    words[kNextGeneration] = 1;
    words[kNextTicket] = 1;
    words[kMagic] = kStateMagic;
  } else if (words[kMagic] != kStateMagic || words[kKeyCount] != key_count) {
    ::munmap(map, bytes);
    return Status::InvalidArgument(path + ": not an expected-state file for this key count");
  }
  state->reset(new ExpectedState(words, bytes, key_count));
  return Status::Ok();
}

ExpectedState::~ExpectedState() { ::munmap(words_, bytes_); }

}  // namespace strata::stress
