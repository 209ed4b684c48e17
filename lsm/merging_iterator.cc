#include "lsm/merging_iterator.h"

#include <algorithm>

#include "core/assert.h"

namespace strata::lsm {

namespace {

// A child and its current key, cached after every move: the heap compares
// keys several times per Next, and a cached view saves two virtual calls
// (and for memtable children a varint decode) per comparison.
struct Child {
  std::unique_ptr<InternalIterator> iter;
  std::string_view key;  // valid while iter is Valid() and not moved
  bool valid = false;

  void Update() {
    valid = iter->Valid();
    if (valid) key = iter->key();
  }
};

class MergingIterator final : public InternalIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children) {
    children_.reserve(children.size());
    for (auto& child : children) {
      STRATA_ASSERT(child != nullptr);
      children_.push_back(Child{std::move(child)});
    }
    heap_.reserve(children_.size());
  }

  bool Valid() const override { return !heap_.empty() && status_.ok(); }
  std::string_view key() const override { return children_[heap_.front()].key; }
  std::string_view value() const override { return children_[heap_.front()].iter->value(); }
  Status status() const override { return status_; }

  void SeekToFirst() override {
    for (auto& child : children_) {
      child.iter->SeekToFirst();
      child.Update();
    }
    Rebuild();
  }

  void Seek(std::string_view target) override {
    for (auto& child : children_) {
      child.iter->Seek(target);
      child.Update();
    }
    Rebuild();
  }

  void Next() override {
    if (!Valid()) return;
    Child& top = children_[heap_.front()];
    top.iter->Next();
    top.Update();
    if (top.valid) {
      SiftDown(0);
      return;
    }
    if (!top.iter->status().ok()) {
      status_ = top.iter->status();
      heap_.clear();
      return;
    }
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) SiftDown(0);
  }

 private:
  // True when child a should come out before child b.
  bool Before(size_t a, size_t b) const {
    const int r = CompareInternalKeys(children_[a].key, children_[b].key);
    return r < 0 || (r == 0 && a < b);
  }

  void Rebuild() {
    heap_.clear();
    status_ = Status::Ok();
    for (size_t i = 0; i < children_.size(); ++i) {
      if (children_[i].valid) {
        heap_.push_back(i);
      } else if (status_.ok() && !children_[i].iter->status().ok()) {
        status_ = children_[i].iter->status();
      }
    }
    if (!status_.ok()) {
      heap_.clear();
      return;
    }
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftDown(i);
  }

  void SiftDown(size_t pos) {
    const size_t n = heap_.size();
    while (true) {
      const size_t left = 2 * pos + 1;
      if (left >= n) return;
      size_t best = left;
      if (left + 1 < n && Before(heap_[left + 1], heap_[left])) best = left + 1;
      if (!Before(heap_[best], heap_[pos])) return;
      std::swap(heap_[best], heap_[pos]);
      pos = best;
    }
  }

  std::vector<Child> children_;
  std::vector<size_t> heap_;  // child indexes; heap_[0] is the smallest key
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> NewMergingIterator(
    std::vector<std::unique_ptr<InternalIterator>> children) {
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace strata::lsm
