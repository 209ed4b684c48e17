// SkipList: the ordered index of a memtable.
//
// Threading: one writer at a time (the engine's write leader) calls Insert;
// any number of readers call Contains and iterate concurrently, without
// locks. A node is fully built before a release-store publishes it, and
// readers follow links with acquire-loads, so a reader sees either the old
// list or the list with the complete new node. Nodes are never removed and
// live in the Arena, which outlives every reader (the memtable is
// refcounted).
//
// Keys are compared with Comparator::operator()(a, b) returning <0, 0, >0.
// Duplicate keys are a programmer error (internal keys are unique because
// every entry has its own sequence number).
#pragma once

#include <atomic>
#include <cstdint>
#include <random>

#include "core/assert.h"
#include "lsm/arena.h"

namespace strata::lsm {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  SkipList(Comparator cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: no equal key is in the list; external synchronisation of writers.
  void Insert(const Key& key);
  bool Contains(const Key& key) const;

  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list), node_(nullptr) {}
    bool Valid() const { return node_ != nullptr; }
    const Key& key() const {
      STRATA_DASSERT(Valid());
      return node_->key;
    }
    void Next() {
      STRATA_DASSERT(Valid());
      node_ = node_->Next(0);
    }
    // Nodes link forward only, so Prev searches from the head for the last
    // node before the current key: O(log n) per step instead of O(1).
    void Prev() {
      STRATA_DASSERT(Valid());
      node_ = list_->FindLessThan(node_->key);
      if (node_ == list_->head_) node_ = nullptr;
    }
    // Positions at the first entry >= target.
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }
    void SeekToLast() {
      node_ = list_->FindLast();
      if (node_ == list_->head_) node_ = nullptr;
    }

   private:
    const SkipList* list_;
    Node* node_;
  };

 private:
  static constexpr int kHeightMax = 12;
  // Each level holds about 1/kBranching of the level below.
  static constexpr uint32_t kBranching = 4;

  struct Node {
    explicit Node(const Key& k) : key(k) {}
    Key const key;
    Node* Next(int level) const { return next[level].load(std::memory_order_acquire); }
    void SetNext(int level, Node* n) { next[level].store(n, std::memory_order_release); }
    Node* NextRelaxed(int level) const { return next[level].load(std::memory_order_relaxed); }
    void SetNextRelaxed(int level, Node* n) { next[level].store(n, std::memory_order_relaxed); }
    // Flexible tail: the node is allocated with `height` links.
    std::atomic<Node*> next[1];
  };

  Node* NewNode(const Key& key, int height);
  int RandomHeight();
  int MaxHeight() const { return max_height_.load(std::memory_order_relaxed); }
  bool KeyIsAfterNode(const Key& key, Node* n) const {
    return n != nullptr && compare_(n->key, key) < 0;
  }
  // First node >= key; fills prev[level] with the node before it when prev != null.
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const;
  // Last node < key, or head_ when there is none.
  Node* FindLessThan(const Key& key) const;
  // Last node, or head_ when the list is empty.
  Node* FindLast() const;

  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;
  std::atomic<int> max_height_;
  std::minstd_rand rng_;  // writer only
};

template <typename Key, class Comparator>
SkipList<Key, Comparator>::SkipList(Comparator cmp, Arena* arena)
    : compare_(cmp), arena_(arena), head_(NewNode(Key(), kHeightMax)), max_height_(1),
      rng_(0xdeadbeef) {
  for (int i = 0; i < kHeightMax; ++i) head_->SetNext(i, nullptr);
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::NewNode(const Key& key,
                                                                             int height) {
  char* mem = arena_->AllocateAligned(sizeof(Node) +
                                      sizeof(std::atomic<Node*>) * (height - 1));
  return new (mem) Node(key);
}

template <typename Key, class Comparator>
int SkipList<Key, Comparator>::RandomHeight() {
  int height = 1;
  while (height < kHeightMax && rng_() % kBranching == 0) ++height;
  return height;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindGreaterOrEqual(
    const Key& key, Node** prev) const {
  Node* x = head_;
  int level = MaxHeight() - 1;
  // A node already found to be >= key at a higher level need not be
  // compared again on the way down (saves about a third of the compares).
  Node* known_not_before = nullptr;
  while (true) {
    Node* next = x->Next(level);
    if (next != known_not_before && KeyIsAfterNode(key, next)) {
      x = next;
    } else {
      known_not_before = next;
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      --level;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLessThan(
    const Key& key) const {
  Node* x = head_;
  int level = MaxHeight() - 1;
  while (true) {
    STRATA_DASSERT(x == head_ || compare_(x->key, key) < 0);
    Node* next = x->Next(level);
    if (KeyIsAfterNode(key, next)) {
      x = next;
    } else {
      if (level == 0) return x;
      --level;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLast() const {
  Node* x = head_;
  int level = MaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr) {
      x = next;
    } else {
      if (level == 0) return x;
      --level;
    }
  }
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::Insert(const Key& key) {
  Node* prev[kHeightMax];
  Node* x = FindGreaterOrEqual(key, prev);
  STRATA_ASSERT(x == nullptr || compare_(key, x->key) != 0);
  const int height = RandomHeight();
  if (height > MaxHeight()) {
    for (int i = MaxHeight(); i < height; ++i) prev[i] = head_;
    // A reader that sees the new height before the node finds null links
    // from head_ at the new levels and simply drops down a level.
    max_height_.store(height, std::memory_order_relaxed);
  }
  x = NewNode(key, height);
  for (int i = 0; i < height; ++i) {
    // The node is not yet reachable, so a relaxed store suffices for its own
    // link; the release store in prev publishes it.
    x->SetNextRelaxed(i, prev[i]->NextRelaxed(i));
    prev[i]->SetNext(i, x);
  }
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && compare_(key, x->key) == 0;
}

}  // namespace strata::lsm
