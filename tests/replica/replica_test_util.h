// Helpers shared by the replica tests.
#pragma once

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "replica/state_machine.h"
#include "strata/engine.h"

namespace strata::replica::testing {

// Options for small test engines.
inline Options TestEngineOptions() {
  Options options;
  options.engine = "lsm";
  options.wal_segment_bytes = 1 * kMiB;
  options.memtable_bytes = 1 * kMiB;
  return options;
}

inline std::unique_ptr<EngineStateMachine> OpenStateMachine(const std::string& dir) {
  StateMachineOptions options;
  options.engine_options = TestEngineOptions();
  options.db_dir = dir;
  std::unique_ptr<EngineStateMachine> sm;
  Status s = EngineStateMachine::Open(options, &sm);
  if (!s.ok()) return nullptr;
  return sm;
}

// Every key, value and version of an engine, reserved keys included.
using Contents = std::vector<std::tuple<std::string, std::string, uint64_t>>;
inline Contents ReadAll(Engine* engine) {
  Contents out;
  std::unique_ptr<Iterator> it = engine->NewIterator(ReadOptions());
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    out.emplace_back(std::string(it->key()), std::string(it->value()), it->version().value_or(0));
  }
  return out;
}

// Only the user keys.
inline Contents UserContents(Engine* engine) {
  Contents all = ReadAll(engine);
  Contents out;
  for (auto& entry : all) {
    if (!IsReservedKey(std::get<0>(entry))) out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace strata::replica::testing
