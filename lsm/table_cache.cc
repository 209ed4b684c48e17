#include "lsm/table_cache.h"

#include <fmt/core.h>

#include <sys/resource.h>

#include <algorithm>
#include <vector>

#include "core/assert.h"
#include "lsm/manifest.h"

namespace strata::lsm {

namespace {

class ErrorIterator final : public InternalIterator {
 public:
  explicit ErrorIterator(Status status) : status_(std::move(status)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(std::string_view) override {}
  void Next() override { STRATA_ASSERT(false); }
  void Prev() override { STRATA_ASSERT(false); }
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  const Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> NewErrorIterator(Status status) {
  return std::make_unique<ErrorIterator>(std::move(status));
}

TableCache::TableCache(std::shared_ptr<io::FileSystem> fs, std::string dir, TableOptions options,
                       BlockCache* block_cache, size_t capacity)
    : fs_(std::move(fs)), dir_(std::move(dir)), options_(options), block_cache_(block_cache),
      capacity_(capacity), alive_(std::make_shared<std::atomic<uint64_t>>(0)) {}

Status TableCache::OpenFile(uint64_t number, uint64_t file_bytes,
                            std::shared_ptr<const Table>* table) {
  const std::string path = io::JoinPath(dir_, TableFileName(number));
  STRATA_ASSIGN_OR_RETURN(uint64_t actual_bytes, fs_->FileSize(path));
  if (actual_bytes != file_bytes) {
    return Status::Corruption(fmt::format("{}: {} bytes on disk, the manifest says {}",
                                          TableFileName(number), actual_bytes, file_bytes));
  }
  std::unique_ptr<io::RandomAccessFile> file;
  STRATA_RETURN_IF_ERROR(fs_->NewRandomAccessFile(path, io::FileOptions{}, &file));
  std::unique_ptr<Table> opened;
  STRATA_RETURN_IF_ERROR(
      Table::Open(options_, std::move(file), file_bytes, number, block_cache_, &opened));
  alive_->fetch_add(1, std::memory_order_relaxed);
  *table = std::shared_ptr<const Table>(opened.release(), [alive = alive_](const Table* t) {
    delete t;
    alive->fetch_sub(1, std::memory_order_relaxed);
  });
  return Status::Ok();
}

void TableCache::InsertLocked(uint64_t number, std::shared_ptr<const Table> table,
                              std::vector<std::shared_ptr<const Table>>* dropped) {
  lru_.push_front(number);
  Entry& entry = entries_[number];
  entry.lru = lru_.begin();
  entry.table = std::move(table);
  while (capacity_ != 0 && entries_.size() > capacity_) {
    const uint64_t victim = lru_.back();
    lru_.pop_back();
    auto v = entries_.find(victim);
    evicted_[victim] = v->second.table;
    dropped->push_back(std::move(v->second.table));
    entries_.erase(v);
    ++evictions_;
  }
  // Forget evicted tables that were closed since (their last reader let go).
  if (evicted_.size() > 2 * entries_.size() + 16) {
    std::erase_if(evicted_, [](const auto& kv) { return kv.second.expired(); });
  }
}

Status TableCache::Find(uint64_t number, uint64_t file_bytes,
                        std::shared_ptr<const Table>* table) {
  // Dropped tables are closed after the mutex is released.
  std::vector<std::shared_ptr<const Table>> dropped;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(number);
    if (it != entries_.end()) {
      ++hits_;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      *table = it->second.table;
      return Status::Ok();
    }
    // Evicted but still pinned by a reader: the same Table goes back into
    // the cache (one open copy per file, never two).
    auto e = evicted_.find(number);
    if (e != evicted_.end()) {
      std::shared_ptr<const Table> alive = e->second.lock();
      evicted_.erase(e);
      if (alive != nullptr) {
        ++hits_;
        *table = alive;
        InsertLocked(number, std::move(alive), &dropped);
        return Status::Ok();
      }
    }
    ++opens_;
  }
  std::shared_ptr<const Table> opened;
  STRATA_RETURN_IF_ERROR(OpenFile(number, file_bytes, &opened));
  std::lock_guard lock(mu_);
  auto it = entries_.find(number);
  if (it != entries_.end()) {
    // Another thread opened it meanwhile: keep theirs.
    dropped.push_back(std::move(opened));
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    *table = it->second.table;
    return Status::Ok();
  }
  *table = opened;
  InsertLocked(number, std::move(opened), &dropped);
  return Status::Ok();
}

void TableCache::Evict(uint64_t number) {
  std::shared_ptr<const Table> dropped;
  std::lock_guard lock(mu_);
  evicted_.erase(number);
  auto it = entries_.find(number);
  if (it == entries_.end()) return;
  dropped = std::move(it->second.table);
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

TableCache::Counters TableCache::counters() const {
  std::lock_guard lock(mu_);
  Counters c;
  c.hits = hits_;
  c.opens = opens_;
  c.evictions = evictions_;
  c.cached = entries_.size();
  c.alive = alive_->load(std::memory_order_relaxed);
  return c;
}

size_t ResolveMaxOpenFiles(int max_open_files) {
  if (max_open_files > 0) return static_cast<size_t>(max_open_files);
  if (max_open_files < 0) return 0;
  constexpr uint64_t kMin = 64, kMax = 65536;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return kMax;
  return static_cast<size_t>(std::clamp<uint64_t>(limit.rlim_cur / 2, kMin, kMax));
}

Status OpenTableFile(const std::shared_ptr<TableCache>& cache, FileMetaData* f) {
  std::shared_ptr<const Table> table;
  STRATA_RETURN_IF_ERROR(cache->Find(f->number, f->file_bytes, &table));
  f->table_cache = cache;
  f->range_dels = table->range_dels();
  return Status::Ok();
}

Status FileMetaData::GetTable(std::shared_ptr<const Table>* table) const {
  STRATA_ASSERT(table_cache != nullptr);
  return table_cache->Find(number, file_bytes, table);
}

}  // namespace strata::lsm
