#include "btree/pager.h"

#include <fmt/core.h>

#include <cstring>
#include <thread>

#include "core/assert.h"

namespace strata::btree {

namespace {
// Pages coalesced into one write at a checkpoint.
constexpr size_t kWriteRunBytesMax = 1 << 20;

// PageBuffers' free lists, one per page size.
struct FreeBuffers {
  std::mutex mu;
  std::vector<std::pair<size_t, std::vector<char*>>> by_size STRATA_GUARDED_BY(mu);
};
FreeBuffers& Free() {
  static FreeBuffers* free = new FreeBuffers();  // never destroyed: pages may outlive statics
  return *free;
}
}  // namespace

char* PageBuffers::Take(size_t bytes) {
  FreeBuffers& f = Free();
  {
    std::lock_guard lock(f.mu);
    for (auto& [size, list] : f.by_size) {
      if (size == bytes && !list.empty()) {
        char* buf = list.back();
        list.pop_back();
        return buf;
      }
    }
  }
  return new char[bytes];
}

void PageBuffers::Give(char* buf, size_t bytes) {
  if (buf == nullptr) return;
  FreeBuffers& f = Free();
  {
    std::lock_guard lock(f.mu);
    auto it = f.by_size.begin();
    while (it != f.by_size.end() && it->first != bytes) ++it;
    if (it == f.by_size.end()) it = f.by_size.insert(it, {bytes, {}});
    if ((it->second.size() + 1) * bytes <= kRecycledBytesMax) {
      it->second.push_back(buf);
      return;
    }
  }
  delete[] buf;
}

Pager::Pager(std::shared_ptr<io::FileSystem> fs, std::string path, size_t page_bytes,
             size_t cache_bytes)
    : fs_(std::move(fs)), path_(std::move(path)), page_bytes_(page_bytes),
      cache_bytes_(cache_bytes), chunks_(new std::atomic<Chunk*>[kChunks]) {
  for (size_t i = 0; i < kChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

Pager::~Pager() {
  if (direct_writer_ != nullptr) (void)direct_writer_->Close();
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

void Pager::Prefetch(std::span<const uint64_t> nos) {
  std::vector<std::shared_ptr<Page>> fresh;
  std::vector<io::ReadRequest> requests;
  for (uint64_t no : nos) {
    if (no < kMetaPages || no >= kPagesMax || Load(no) != nullptr) continue;
    fresh.push_back(std::make_shared<Page>(no, page_bytes_));
    io::ReadRequest r;
    r.offset = no * page_bytes_;
    r.length = page_bytes_;
    r.buffer = fresh.back()->mutable_bytes();
    requests.push_back(r);
  }
  if (requests.empty()) return;
  (void)reader_->ReadBatch(requests);  // each request carries its own status
  for (size_t i = 0; i < fresh.size(); ++i) {
    const io::ReadRequest& r = requests[i];
    std::shared_ptr<Page>& page = fresh[i];
    if (!r.status.ok() || r.bytes_read != page_bytes_ ||
        !ValidatePage(page->bytes(), page_bytes_, page->no, path_).ok()) {
      continue;
    }
    page->on_disk.store(true, std::memory_order_relaxed);
    page->ref.store(true, std::memory_order_relaxed);  // one clock round to be read
    {
      std::shared_ptr<const Page>* slot = Slot(page->no, true);
      std::lock_guard lock(LockFor(page->no));
      if (*slot != nullptr) continue;  // a reader or the writer was faster
      *slot = std::move(page);
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    NoteLimit(r.offset / page_bytes_);
    cached_bytes_.fetch_add(static_cast<int64_t>(page_bytes_), std::memory_order_relaxed);
  }
  MaybeEvict();
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

Status Pager::WritePages(const std::vector<PageRef>& pages, bool fresh_bulk) {
  if (run_ == nullptr) run_ = std::make_unique<io::AlignedBuffer>(kWriteRunBytesMax);
  if (fresh_bulk && direct_writer_ == nullptr && !direct_refused_) {
    io::FileOptions direct;
    direct.direct = true;
    // A file system without O_DIRECT (tmpfs, some test doubles) says no once.
    if (!fs_->ReopenWritableFile(path_, direct, &direct_writer_).ok()) {
      direct_writer_.reset();
      direct_refused_ = true;
    }
  }
  io::AlignedBuffer& run = *run_;
  run.Clear();
  uint64_t run_start = 0;
  uint64_t next = 0;
  auto flush = [&]() -> Status {
    if (run.size() == 0) return Status::Ok();
    const uint64_t offset = run_start * page_bytes_;
    const bool aligned = offset % io::kDirectIoAlignment == 0 &&
                         run.size() % io::kDirectIoAlignment == 0;
    if (fresh_bulk && direct_writer_ != nullptr && aligned) {
      STRATA_RETURN_IF_ERROR(direct_writer_->WriteAt(offset, run.view()));
      direct_unsynced_ = true;
    } else {
      STRATA_RETURN_IF_ERROR(writer_->WriteAt(offset, run.view()));
    }
    bytes_written_.fetch_add(run.size(), std::memory_order_relaxed);
    pages_written_.fetch_add(run.size() / page_bytes_, std::memory_order_relaxed);
    run.Clear();
    return Status::Ok();
  };
  for (const PageRef& p : pages) {
    if (run.size() == 0 || p->no != next || run.size() + page_bytes_ > run.capacity()) {
      STRATA_RETURN_IF_ERROR(flush());
      run_start = p->no;
    }
    run.Append(std::string_view(p->bytes(), page_bytes_));
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

Status Pager::Sync() {
  // Both handles: fdatasync on either covers the file on Linux, but a file
  // system model may track each handle's writes (and it costs one call per
  // checkpoint that followed a bulk load).
  if (direct_unsynced_) {
    STRATA_RETURN_IF_ERROR(direct_writer_->Sync());
    direct_unsynced_ = false;
  }
  return writer_->Sync();
}

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
