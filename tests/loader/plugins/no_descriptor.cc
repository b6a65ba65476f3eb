// A shared library that is not a Tessera plugin: it exports a function and no descriptor.
#include "tessera/plugin.h"

extern "C" BOOST_SYMBOL_EXPORT int not_a_plugin() { return 42; }
