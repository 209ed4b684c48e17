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

class DBIter final : public Iterator {
 public:
  DBIter(std::shared_ptr<const void> pin, std::unique_ptr<InternalIterator> internal,
         SequenceNumber sequence, std::optional<std::string> upper_bound)
      : pin_(std::move(pin)), iter_(std::move(internal)), sequence_(sequence),
        upper_bound_(std::move(upper_bound)) {}

  bool Valid() const override { return valid_; }
  void SeekToFirst() override {
    iter_->SeekToFirst();
    FindNextUserEntry(false);
  }
  void Seek(std::string_view target) override {
    iter_->Seek(LookupKey(target, sequence_));
    FindNextUserEntry(false);
  }
  void Next() override {
    STRATA_ASSERT(valid_);
    skip_key_.assign(key_);
    iter_->Next();
    FindNextUserEntry(true);
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  std::optional<uint64_t> version() const override { return version_; }
  Status status() const override {
    if (!status_.ok()) return status_;
    return iter_->status();
  }

 private:
  // Moves to the first visible, live entry at or after the internal
  // iterator's position; entries of skip_key_ are skipped when `skipping`.
  void FindNextUserEntry(bool skipping) {
    valid_ = false;
    for (; iter_->Valid(); iter_->Next()) {
      ParsedInternalKey parsed;
      if (!ParseInternalKey(iter_->key(), &parsed)) {
        status_ = Status::Corruption("iterator: malformed internal key");
        return;
      }
      if (parsed.sequence > sequence_) continue;
      if (skipping && parsed.user_key == skip_key_) continue;
      if (upper_bound_ && parsed.user_key >= *upper_bound_) return;
      if (parsed.type == ValueType::kDeletion) {
        skip_key_.assign(parsed.user_key);
        skipping = true;
        continue;
      }
      std::string_view value = iter_->value();
      uint64_t version = 0;
      if (parsed.type == ValueType::kVersionedValue) {
        if (!SplitVersionedValue(iter_->value(), &version, &value)) {
          status_ = Status::Corruption("iterator: versioned value shorter than its version");
          return;
        }
      }
      key_ = parsed.user_key;
      value_ = value;
      version_ = version;
      valid_ = true;
      return;
    }
  }

  std::shared_ptr<const void> pin_;
  std::unique_ptr<InternalIterator> iter_;
  const SequenceNumber sequence_;
  const std::optional<std::string> upper_bound_;
  bool valid_ = false;
  std::string_view key_;
  std::string_view value_;
  uint64_t version_ = 0;
  std::string skip_key_;
  Status status_;
};

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(std::shared_ptr<const void> pin,
                                        std::unique_ptr<InternalIterator> internal,
                                        SequenceNumber sequence,
                                        std::optional<std::string> upper_bound) {
  return std::make_unique<DBIter>(std::move(pin), std::move(internal), sequence,
                                  std::move(upper_bound));
}

}  // namespace strata::lsm
