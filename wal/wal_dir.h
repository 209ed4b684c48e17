// Where an engine keeps its WAL (Options::wal_dir).
//
// By default the WAL lives in `<db>/wal`. Options::wal_dir moves it to a
// directory of its own (another disk: on HDD its own spindle is the classic
// win). A database whose WAL lives elsewhere records that directory in the
// file WALDIR of the database directory (one line, the absolute path;
// wal/FORMAT.md), so that an open without wal_dir (a tool, `strata kv`)
// finds the WAL instead of starting an empty one beside the tables.
#pragma once

#include <string>

#include "io/file_system.h"

namespace strata::wal {

inline constexpr char kWalDirFileName[] = "WALDIR";

// Resolves the WAL directory of the database in `db_dir`:
// - option empty: the directory WALDIR names, else `<db_dir>/wal`;
// - option set: its absolute form; InvalidArgument if WALDIR names another
//   directory, or if there is no WALDIR but `<db_dir>/wal` holds segments
//   (the WAL would be left behind) or the option's directory does (the WAL
//   of another database: it would be replayed into this one).
// Writes nothing.
Status ResolveWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& option,
                     std::string* wal_dir);

// For a wal_dir that ResolveWalDir returned, before the WAL is opened for
// writing: a directory other than `<db_dir>/wal` is created and synced
// (with its parent), and WALDIR is written (atomically, synced) if missing.
Status PrepareWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& wal_dir);

}  // namespace strata::wal
