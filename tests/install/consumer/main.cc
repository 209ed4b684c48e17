// Uses an installed strata through its public headers only: builds and
// round-trips a WriteBatch, inspects Status values, and opens a database,
// which goes through the io layer (default file system, KIND file).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "strata/engine.h"
#include "strata/status.h"
#include "strata/write_batch.h"

namespace {

int Fail(const char* what, const strata::Status& s) {
  std::fprintf(stderr, "consumer: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: app DB_DIR\n");
    return 2;
  }
  strata::WriteBatch batch;
  if (strata::Status s = batch.Put("key", "value"); !s.ok()) return Fail("Put", s);
  if (strata::Status s = batch.Delete("gone"); !s.ok()) return Fail("Delete", s);
  strata::Result<strata::WriteBatch> parsed = strata::WriteBatch::Parse(batch.Serialize());
  if (!parsed.ok()) return Fail("Parse", parsed.status());
  if (parsed->Count() != 2) return Fail("Count", strata::Status::Corruption("count != 2"));
  std::string flipped = batch.Serialize();
  flipped[flipped.size() / 2] ^= 0x40;
  if (strata::WriteBatch::Parse(flipped).status().IsCorruption() == false) {
    return Fail("Parse of a flipped bit", strata::Status::InvalidArgument("not Corruption"));
  }

  const std::vector<std::string> kinds = strata::RegisteredEngineKinds();
  strata::Options options;
  if (!kinds.empty()) options.engine = kinds.front();
  std::unique_ptr<strata::Engine> db;
  strata::Status s = strata::Open(options, argv[1], &db);
  if (kinds.empty()) {
    // No engine linked yet: Open must still answer cleanly.
    if (!s.IsInvalidArgument()) return Fail("Open without engines", s);
    std::printf("consumer: ok (WriteBatch, Status; Open says: %s)\n", s.ToString().c_str());
    return 0;
  }
  if (!s.ok()) return Fail("Open", s);
  if (s = db->Write(strata::WriteOptions{.sync = true}, batch); !s.ok()) return Fail("Write", s);
  std::string value;
  if (s = db->Get(strata::ReadOptions{}, "key", &value); !s.ok()) return Fail("Get", s);
  if (value != "value") return Fail("Get", strata::Status::Corruption("wrong value"));
  std::printf("consumer: ok (engine %s)\n", std::string(db->kind()).c_str());
  return 0;
}
