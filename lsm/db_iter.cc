#include "lsm/db_iter.h"

#include "core/assert.h"

namespace strata::lsm {

bool SplitVersionedValue(std::string_view stored, uint64_t* version, std::string_view* value) {
  if (stored.size() < 8) return false;
  *version = DecodeFixed64(stored.data());
  *value = stored.substr(8);
  return true;
}

namespace {

// Two positions of the internal iterator, one per direction:
// - forward: iter_ is at the entry that supplies key_ and value_, which view
//   it directly (no copy on the forward path);
// - reverse: iter_ is before every entry of key_ (at the last entry of a
//   smaller user key, or invalid); key_ and value_ view saved_key_ and
//   saved_value_, because the entry they came from is behind the cursor.
class DBIter final : public Iterator {
 public:
  DBIter(std::shared_ptr<const void> pin, std::unique_ptr<InternalIterator> internal,
         SequenceNumber sequence, std::optional<std::string> upper_bound,
         std::vector<std::shared_ptr<const RangeDelIndex>> range_dels)
      : pin_(std::move(pin)),
        iter_(std::move(internal)),
        sequence_(sequence),
        upper_bound_(std::move(upper_bound)),
        range_dels_(std::move(range_dels)) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    direction_ = kForward;
    iter_->SeekToFirst();
    FindNextUserEntry(false);
  }
  void SeekToLast() override {
    direction_ = kReverse;
    valid_ = false;
    if (upper_bound_) {
      // Every entry of the bound's user key sorts at or after this key.
      iter_->Seek(LookupKey(*upper_bound_, kMaxSequenceNumber));
      if (iter_->Valid()) {
        iter_->Prev();
      } else if (iter_->status().ok()) {
        iter_->SeekToLast();
      }
    } else {
      iter_->SeekToLast();
    }
    FindPrevUserEntry();
  }
  void Seek(std::string_view target) override {
    direction_ = kForward;
    iter_->Seek(LookupKey(target, sequence_));
    FindNextUserEntry(false);
  }
  void Next() override {
    STRATA_ASSERT(valid_);
    if (direction_ == kReverse) {
      TurnForward();
      return;
    }
    skip_key_.assign(key_);
    iter_->Next();
    FindNextUserEntry(true);
  }
  void Prev() override {
    STRATA_ASSERT(valid_);
    if (direction_ == kForward) {
      direction_ = kReverse;
      if (!StepBeforeCurrentKey()) return;
    }
    FindPrevUserEntry();
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  std::optional<uint64_t> version() const override { return version_; }
  Status status() const override {
    if (!status_.ok()) return status_;
    return iter_->status();
  }

 private:
  enum Direction : bool { kForward, kReverse };

  bool Parse(ParsedInternalKey* parsed) {
    if (ParseInternalKey(iter_->key(), parsed)) return true;
    valid_ = false;
    status_ = Status::Corruption("iterator: malformed internal key");
    return false;
  }

  // Sets value_ from a stored value of `type`; false (Corruption) if a
  // versioned value is too short to hold its version.
  bool SetValue(ValueType type, std::string_view stored) {
    value_ = stored;
    version_ = 0;
    if (type != ValueType::kVersionedValue) return true;
    if (SplitVersionedValue(stored, &version_, &value_)) return true;
    valid_ = false;
    status_ = Status::Corruption("iterator: versioned value shorter than its version");
    return false;
  }

  // The entry's type, or kDeletion when a range tombstone covers it.
  ValueType EffectiveType(const ParsedInternalKey& parsed) const {
    if (range_dels_.empty() || parsed.type == ValueType::kDeletion) return parsed.type;
    return RangeCovered(parsed) ? ValueType::kDeletion : parsed.type;
  }
  [[gnu::noinline]] bool RangeCovered(const ParsedInternalKey& parsed) const {
    return parsed.sequence < MaxCoveringSeq(range_dels_, parsed.user_key, sequence_);
  }

  // Moves to the first visible, live entry at or after the internal
  // iterator's position; entries of skip_key_ are skipped when `skipping`.
  void FindNextUserEntry(bool skipping) {
    valid_ = false;
    for (; iter_->Valid(); iter_->Next()) {
      ParsedInternalKey parsed;
      if (!Parse(&parsed)) return;
      if (parsed.sequence > sequence_) continue;
      if (skipping && parsed.user_key == skip_key_) continue;
      if (upper_bound_ && parsed.user_key >= *upper_bound_) return;
      if (EffectiveType(parsed) == ValueType::kDeletion) {
        skip_key_.assign(parsed.user_key);
        skipping = true;
        continue;
      }
      key_ = parsed.user_key;
      valid_ = SetValue(parsed.type, iter_->value());
      return;
    }
  }

  // Next after Prev: iter_ is before the entries of key_; step into them and
  // skip them. Out of line, to keep the forward Next short.
  [[gnu::noinline]] void TurnForward() {
    direction_ = kForward;
    skip_key_.assign(key_);
    if (iter_->Valid()) {
      iter_->Next();
    } else if (iter_->status().ok()) {
      iter_->SeekToFirst();
    }
    FindNextUserEntry(true);
  }

  // Forward to reverse: moves iter_ back past every entry of key_ (the
  // visible one it is at and any newer, invisible ones before it). False
  // (and invalid) when no entry is left before them.
  bool StepBeforeCurrentKey() {
    saved_key_.assign(key_);  // key_ views the entry iter_ is about to leave
    while (true) {
      iter_->Prev();
      if (!iter_->Valid()) {
        valid_ = false;
        return false;
      }
      ParsedInternalKey parsed;
      if (!Parse(&parsed)) return false;
      if (parsed.user_key < saved_key_) return true;
    }
  }

  // Moves backward from iter_'s position to the previous user key that has
  // a visible, live version, and stops iter_ before all of its entries.
  // Backward, a key's versions come oldest first, so each visible version
  // replaces the one before it and the last one seen is the newest; a
  // visible entry of a smaller key ends the key, unless the newest version
  // so far is a tombstone (the key is deleted and the walk goes on).
  void FindPrevUserEntry() {
    valid_ = false;
    ValueType newest_type = ValueType::kDeletion;
    for (; iter_->Valid(); iter_->Prev()) {
      ParsedInternalKey parsed;
      if (!Parse(&parsed)) return;
      if (parsed.sequence > sequence_) continue;
      if (newest_type != ValueType::kDeletion && parsed.user_key < saved_key_) break;
      newest_type = EffectiveType(parsed);
      saved_key_.assign(parsed.user_key);
      if (newest_type != ValueType::kDeletion) {
        const std::string_view stored = iter_->value();
        saved_value_.assign(stored.data(), stored.size());
      }
    }
    if (newest_type == ValueType::kDeletion) return;  // nothing live before
    key_ = saved_key_;
    valid_ = SetValue(newest_type, saved_value_);
  }

  std::shared_ptr<const void> pin_;
  std::unique_ptr<InternalIterator> iter_;
  const SequenceNumber sequence_;
  const std::optional<std::string> upper_bound_;
  const std::vector<std::shared_ptr<const RangeDelIndex>> range_dels_;  // usually empty
  Direction direction_ = kForward;
  bool valid_ = false;
  std::string_view key_;
  std::string_view value_;
  uint64_t version_ = 0;
  std::string skip_key_;     // forward: the user key whose entries are skipped
  std::string saved_key_;    // reverse: the user key at the position
  std::string saved_value_;  // reverse: its stored value
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(
    std::shared_ptr<const void> pin, std::unique_ptr<InternalIterator> internal,
    SequenceNumber sequence, std::optional<std::string> upper_bound,
    std::vector<std::shared_ptr<const RangeDelIndex>> range_dels) {
  return std::make_unique<DBIter>(std::move(pin), std::move(internal), sequence,
                                  std::move(upper_bound), std::move(range_dels));
}

}  // namespace strata::lsm
