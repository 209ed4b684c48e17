// strata::Open: finds the engine kind of a directory and dispatches to it.
//
// A database directory records its kind in the file KIND ("lsm\n"), written
// atomically before the engine creates anything else. An existing directory's
// kind wins over Options::engine; a mismatch is InvalidArgument. Without
// KIND, a read-only open or one with create_if_missing false is NotFound and
// creates nothing (no directory, no KIND).
#include <algorithm>
#include <map>
#include <mutex>
#include <string>

#include "io/file_system.h"
#include "strata/engine.h"

namespace strata {

namespace {

constexpr std::string_view kKindFileName = "KIND";

struct Registry {
  std::mutex mu;
  std::map<std::string, EngineFactory, std::less<>> factories;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace

// Defined in registry/builtin_engines.cc: registers every engine linked into strata.
void RegisterBuiltinEngines();

Status RegisterEngineKind(std::string_view kind, EngineFactory factory) {
  if (kind.empty() || factory == nullptr) {
    return Status::InvalidArgument("RegisterEngineKind: empty kind or null factory");
  }
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  if (r.factories.count(kind)) {
    return Status::InvalidArgument("engine kind '" + std::string(kind) + "' already registered");
  }
  r.factories.emplace(std::string(kind), factory);
  return Status::Ok();
}

std::vector<std::string> RegisteredEngineKinds() {
  static std::once_flag once;
  std::call_once(once, RegisterBuiltinEngines);
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> kinds;
  for (const auto& [kind, factory] : r.factories) kinds.push_back(kind);
  return kinds;
}

Status Open(const Options& options, const std::string& path, std::unique_ptr<Engine>* engine) {
  const std::vector<std::string> kinds = RegisteredEngineKinds();
  std::shared_ptr<io::FileSystem> fs =
      options.file_system ? options.file_system : io::DefaultFileSystem();

  const std::string kind_path = io::JoinPath(path, kKindFileName);
  std::string kind = options.engine;
  if (fs->FileExists(kind_path)) {
    std::string stored;
    STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs.get(), kind_path, &stored));
    if (stored.empty() || stored.back() != '\n' || stored.size() > 64) {
      return Status::Corruption(kind_path + ": malformed engine kind file");
    }
    stored.pop_back();
    if (!options.engine.empty() && options.engine != stored) {
      return Status::InvalidArgument(path + ": directory holds a '" + stored +
                                     "' database, options ask for '" + options.engine + "'");
    }
    if (options.error_if_exists) return Status::InvalidArgument(path + ": database exists");
    kind = stored;
  } else if (options.read_only) {
    // A read-only open never creates anything.
    return Status::NotFound(path + ": no database (read-only open)");
  } else if (!options.create_if_missing) {
    return Status::NotFound(path + ": no database (create_if_missing is false)");
  }

  EngineFactory factory = nullptr;
  {
    Registry& r = GetRegistry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(kind);
    if (it != r.factories.end()) factory = it->second;
  }
  if (factory == nullptr) {
    std::string known;
    for (const auto& k : kinds) known += (known.empty() ? "" : ", ") + k;
    return Status::InvalidArgument("unknown engine kind '" + kind + "' (registered: " +
                                   (known.empty() ? "none" : known) + ")");
  }

  if (!fs->FileExists(kind_path)) {
    STRATA_RETURN_IF_ERROR(fs->CreateDir(path));
    STRATA_RETURN_IF_ERROR(io::WriteFileAtomically(fs.get(), kind_path, kind + "\n"));
    STRATA_RETURN_IF_ERROR(fs->SyncDir(io::DirName(path)));
  }
  return factory(options, path, engine);
}

}  // namespace strata
