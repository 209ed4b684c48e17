#include "btree/pager.h"

#include <fmt/core.h>

#include <cstring>
#include <thread>

#include "core/assert.h"

namespace strata::btree {

namespace {
// Pages coalesced into one write at a checkpoint.
constexpr size_t kWriteRunBytesMax = 1 << 20;
}  // namespace

Pager::Pager(std::shared_ptr<io::FileSystem> fs, std::string path, size_t page_bytes,
             size_t cache_bytes)
    : fs_(std::move(fs)), path_(std::move(path)), page_bytes_(page_bytes),
      cache_bytes_(cache_bytes), chunks_(new std::atomic<Chunk*>[kChunks]) {
  for (size_t i = 0; i < kChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

Pager::~Pager() {
  if (writer_ != nullptr) (void)writer_->Close();
  for (size_t i = 0; i < kChunks; ++i) delete chunks_[i].load(std::memory_order_relaxed);
}

Status Pager::Open(bool create) {
  if (create && !fs_->FileExists(path_)) {
    STRATA_RETURN_IF_ERROR(fs_->NewWritableFile(path_, io::FileOptions{}, &writer_));
  } else {
    STRATA_RETURN_IF_ERROR(fs_->ReopenWritableFile(path_, io::FileOptions{}, &writer_));
  }
  return fs_->NewRandomAccessFile(path_, io::FileOptions{}, &reader_);
}

void Pager::SpinLock::lock() {
  for (int spins = 0; locked.exchange(true, std::memory_order_acquire); ++spins) {
    if (spins > 64) std::this_thread::yield();
  }
}

std::shared_ptr<const Page> Pager::Load(uint64_t no) {
  std::shared_ptr<const Page>* slot = Slot(no, false);
  if (slot == nullptr) return nullptr;
  std::lock_guard lock(LockFor(no));
  return *slot;
}

std::shared_ptr<const Page> Pager::Exchange(uint64_t no, std::shared_ptr<const Page> page) {
  std::shared_ptr<const Page>* slot = Slot(no, true);
  std::lock_guard lock(LockFor(no));
  slot->swap(page);
  return page;  // the old one, freed (if last) outside the lock
}

std::shared_ptr<const Page>* Pager::Slot(uint64_t no, bool create) {
  STRATA_ASSERT(no < kPagesMax);
  std::atomic<Chunk*>& top = chunks_[no >> kChunkBits];
  Chunk* chunk = top.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    if (!create) return nullptr;
    auto* fresh = new Chunk();
    if (top.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete fresh;  // another thread made it; `chunk` holds theirs
    }
  }
  return &chunk->slots[no & (kChunkPages - 1)];
}

void Pager::NoteLimit(uint64_t no) {
  uint64_t limit = limit_.load(std::memory_order_relaxed);
  while (no + 1 > limit && !limit_.compare_exchange_weak(limit, no + 1)) {
  }
}

Status Pager::ReadPage(uint64_t no, std::string* buf) const {
  buf->resize(page_bytes_);
  size_t got = 0;
  STRATA_RETURN_IF_ERROR(reader_->Read(no * page_bytes_, page_bytes_, buf->data(), &got));
  if (got != page_bytes_) {
    return Status::Corruption(fmt::format("{} page {} @ {}: file ends after {} of its {} bytes",
                                          path_, no, no * page_bytes_, got, page_bytes_));
  }
  return ValidatePage(buf->data(), page_bytes_, no, path_);
}

Result<PageRef> Pager::Get(uint64_t no) {
  if (no < kMetaPages || no >= kPagesMax) {
    return Status::Corruption(fmt::format("{}: reference to page {}, not a tree page", path_, no));
  }
  std::shared_ptr<const Page> page = Load(no);
  if (page != nullptr) {
    if (!page->ref.load(std::memory_order_relaxed)) {
      page->ref.store(true, std::memory_order_relaxed);
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    return PageRef(std::move(page));
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  auto fresh = std::make_shared<Page>(no, page_bytes_);
  size_t got = 0;
  STRATA_RETURN_IF_ERROR(reader_->Read(no * page_bytes_, page_bytes_, fresh->mutable_bytes(), &got));
  if (got != page_bytes_) {
    return Status::Corruption(fmt::format("{} page {} @ {}: file ends after {} of its {} bytes",
                                          path_, no, no * page_bytes_, got, page_bytes_));
  }
  STRATA_RETURN_IF_ERROR(ValidatePage(fresh->bytes(), page_bytes_, no, path_));
  fresh->on_disk.store(true, std::memory_order_relaxed);
  {
    std::shared_ptr<const Page>* slot = Slot(no, true);
    std::lock_guard lock(LockFor(no));
    if (*slot != nullptr) return PageRef(*slot);  // another reader was faster
    *slot = fresh;
  }
  NoteLimit(no);
  cached_bytes_.fetch_add(static_cast<int64_t>(page_bytes_), std::memory_order_relaxed);
  MaybeEvict();
  return PageRef(std::move(fresh));
}

void Pager::Install(std::shared_ptr<Page> page) {
  const uint64_t no = page->no;
  page->ref.store(true, std::memory_order_relaxed);
  std::shared_ptr<const Page> old = Exchange(no, std::shared_ptr<const Page>(std::move(page)));
  if (old != nullptr && old->on_disk.load(std::memory_order_relaxed)) {
    cached_bytes_.fetch_sub(static_cast<int64_t>(page_bytes_), std::memory_order_relaxed);
  }
  NoteLimit(no);
}

void Pager::Forget(uint64_t no) {
  if (Slot(no, false) == nullptr) return;
  std::shared_ptr<const Page> old = Exchange(no, nullptr);
  if (old != nullptr && old->on_disk.load(std::memory_order_relaxed)) {
    cached_bytes_.fetch_sub(static_cast<int64_t>(page_bytes_), std::memory_order_relaxed);
  }
}

void Pager::MarkOnDisk(const std::vector<PageRef>& pages) {
  for (const PageRef& p : pages) {
    // Count it only while it is the page in its slot (it is, for the writer).
    if (Load(p->no) == p) {
      const_cast<Page*>(p.get())->on_disk.store(true, std::memory_order_release);
      cached_bytes_.fetch_add(static_cast<int64_t>(page_bytes_), std::memory_order_relaxed);
    } else {
      const_cast<Page*>(p.get())->on_disk.store(true, std::memory_order_release);
    }
  }
  MaybeEvict();
}

// Clock: sweeps slots in page order; a set reference bit buys a page one more
// round. At most two full rounds per call.
void Pager::MaybeEvict() {
  const int64_t budget = static_cast<int64_t>(cache_bytes_.load(std::memory_order_relaxed));
  if (cached_bytes_.load(std::memory_order_relaxed) <= budget) return;
  std::unique_lock lock(evict_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // someone else is sweeping
  const uint64_t limit = limit_.load(std::memory_order_relaxed);
  if (limit <= kMetaPages) return;
  const uint64_t steps_max = 2 * limit;
  for (uint64_t step = 0;
       step < steps_max && cached_bytes_.load(std::memory_order_relaxed) > budget; ++step) {
    if (clock_hand_ < kMetaPages || clock_hand_ >= limit) clock_hand_ = kMetaPages;
    const uint64_t no = clock_hand_++;
    std::shared_ptr<const Page>* slot = Slot(no, false);
    if (slot == nullptr) {
      clock_hand_ = ((no >> kChunkBits) + 1) << kChunkBits;  // skip an absent chunk
      continue;
    }
    std::shared_ptr<const Page> victim;
    {
      std::lock_guard lock(LockFor(no));
      const Page* page = slot->get();
      if (page == nullptr || !page->on_disk.load(std::memory_order_acquire)) continue;
      if (page->ref.load(std::memory_order_relaxed)) {
        page->ref.store(false, std::memory_order_relaxed);
        continue;
      }
      victim.swap(*slot);  // freed outside the lock
    }
    cached_bytes_.fetch_sub(static_cast<int64_t>(page_bytes_), std::memory_order_relaxed);
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

Status Pager::WritePages(const std::vector<PageRef>& pages) {
  std::string run;
  uint64_t run_start = 0;
  uint64_t next = 0;
  auto flush = [&]() -> Status {
    if (run.empty()) return Status::Ok();
    STRATA_RETURN_IF_ERROR(writer_->WriteAt(run_start * page_bytes_, run));
    bytes_written_.fetch_add(run.size(), std::memory_order_relaxed);
    pages_written_.fetch_add(run.size() / page_bytes_, std::memory_order_relaxed);
    run.clear();
    return Status::Ok();
  };
  for (const PageRef& p : pages) {
    if (run.empty() || p->no != next || run.size() + page_bytes_ > kWriteRunBytesMax) {
      STRATA_RETURN_IF_ERROR(flush());
      run_start = p->no;
    }
    run.append(p->bytes(), page_bytes_);
    next = p->no + 1;
  }
  return flush();
}

Status Pager::WriteRaw(uint64_t no, const char* data) {
  STRATA_RETURN_IF_ERROR(writer_->WriteAt(no * page_bytes_, std::string_view(data, page_bytes_)));
  bytes_written_.fetch_add(page_bytes_, std::memory_order_relaxed);
  pages_written_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

Status Pager::EnsurePages(uint64_t pages) {
  if (writer_->size() >= pages * page_bytes_) return Status::Ok();
  return writer_->Truncate(pages * page_bytes_);
}

Status Pager::Sync() { return writer_->Sync(); }

PagerStats Pager::stats() const {
  PagerStats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.evictions = evictions_.load(std::memory_order_relaxed);
  const int64_t cached = cached_bytes_.load(std::memory_order_relaxed);
  s.cached_bytes = cached < 0 ? 0 : static_cast<uint64_t>(cached);
  s.pages_written = pages_written_.load(std::memory_order_relaxed);
  s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace strata::btree
