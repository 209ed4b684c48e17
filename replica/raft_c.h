// libraft 0.15 (Debian libraft-dev) and libuv, included with C linkage: the
// raft headers carry no extern "C" guards of their own. See
// /work/shared/notes/libraft-0.15.md for the library's contract and bugs.
#pragma once

extern "C" {
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>
}
