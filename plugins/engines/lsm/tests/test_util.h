// Helpers shared by the lsm unit tests.
#pragma once

#include "tessera/testing/temp_dir.h"

namespace tessera::lsm::testing {

using TempDir = tessera::testing::TempDir;

}  // namespace tessera::lsm::testing
