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
// A WAL handover pending after a snapshot install (below).
inline constexpr char kWalHandoverFileName[] = "WALDIR.install";

// WAL handover. A snapshot install (snapshot/install.h) builds the new state
// with its WAL inside it and, when the node's WAL lives elsewhere (wal_dir,
// or the replaced database's WALDIR), writes WALDIR.install into the new
// state before it switches states: the WAL directory's path, and whether
// the segments there belong to the state being replaced (wal/FORMAT.md).
// The next read-write open then hands the directory over: it removes those
// segments (only when they belonged to the replaced state), removes the
// WAL files of `<db>/wal` (the install flushed or checkpointed everything
// they hold), records WALDIR, opens a fresh WAL there continuing at the
// engine's WAL position, and only then removes WALDIR.install. A crash at
// any point repeats the handover at the next open.
struct WalHandover {
  bool pending = false;   // WALDIR.install is present
  bool replaces = false;  // the directory's segments belonged to the replaced state
};

// Resolves the WAL directory of the database in `db_dir`:
// - a pending handover: the directory WALDIR.install names (the option, if
//   set, must name it too; InvalidArgument if the segments there are not the
//   replaced state's);
// - option empty: the directory WALDIR names, else `<db_dir>/wal`;
// - option set: its absolute form; InvalidArgument if WALDIR names another
//   directory, or if there is no WALDIR but `<db_dir>/wal` holds segments
//   (the WAL would be left behind) or the option's directory holds any WAL
//   file (the WAL of another database: it would be replayed into this one,
//   its free segments recycled, its temp files deleted).
// Writes nothing.
Status ResolveWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& option,
                     std::string* wal_dir, WalHandover* handover);

// For a wal_dir that ResolveWalDir returned, before the WAL is opened for
// writing: a directory other than `<db_dir>/wal` is created and synced
// (with its parent), and WALDIR is written (atomically, synced) if missing.
// A pending handover first removes the segments it may remove (see above),
// then writes WALDIR. The engine must then not expect a segment at its WAL
// position (the new WAL starts there) and call FinishWalHandover once its
// WAL is open.
Status PrepareWalDir(io::FileSystem* fs, const std::string& db_dir, const std::string& wal_dir,
                     const WalHandover& handover);

// Removes WALDIR.install (synced): the handover is complete.
Status FinishWalHandover(io::FileSystem* fs, const std::string& db_dir);

// For snapshot installs. The WAL directory of the database in `db_dir` if
// it is not `<db_dir>/wal`, as a pending handover or WALDIR names it ("" if
// none; *proven*: its segments are that database's, not a pending handover
// that refused them).
Status RecordedWalDir(io::FileSystem* fs, const std::string& db_dir, std::string* wal_dir,
                      bool* proven);
// Writes WALDIR.install into `db_dir` (atomically, synced).
Status WriteWalHandover(io::FileSystem* fs, const std::string& db_dir, const std::string& wal_dir,
                        bool replaces);
// `path` made absolute and lexically normal, without a trailing slash.
std::string AbsoluteWalDir(const std::string& path);

}  // namespace strata::wal
