// Registers the engine kinds linked into the strata library. Each engine
// module adds one line here when it lands.
#include "btree/btree_engine.h"
#include "lsm/lsm_engine.h"
#include "strata/engine.h"

namespace strata {

void RegisterBuiltinEngines() {
  (void)RegisterEngineKind("lsm", &lsm::OpenLsmEngine);
  (void)RegisterEngineKind("btree", &btree::OpenBtreeEngine);
}

}  // namespace strata
