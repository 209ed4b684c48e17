// Registers the engine kinds linked into the strata library. Each engine
// module adds one line here when it lands.
namespace strata {

void RegisterBuiltinEngines() {}

}  // namespace strata
