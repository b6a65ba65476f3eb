// An engine plugin that needs a symbol no library provides, like one built against another
// version of a dependency: the dynamic loader refuses it and the reason must reach the user.
#include "tessera/plugin.h"

extern "C" int tessera_symbol_that_nobody_defines();

extern "C" BOOST_SYMBOL_EXPORT int use_the_missing_symbol() {
  return tessera_symbol_that_nobody_defines();
}
