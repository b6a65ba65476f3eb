// Text formats of the `tessera` command-line client: how bytes are shown on a terminal and how
// a batch is read from a text stream.
//
// Keys and values are arbitrary bytes; a scan prints them as `key<TAB>value` lines, so bytes that
// would break that shape (tab, newline) or that a terminal cannot show are escaped. The same
// escapes are accepted in batch input, so that a scan's output can be turned into a batch.
//
//   \\  backslash      \t  tab      \n  newline      \r  carriage return
//   \xHH  any byte, two hex digits
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tessera/bytes.h"
#include "tessera/client.h"
#include "tessera/status.h"

namespace tessera::cli {

// Printable ASCII stays as it is, except the backslash; everything else becomes an escape.
std::string escape(ByteView bytes);

// The inverse of escape(). InvalidArgument names the offending escape.
Result<Bytes> unescape(std::string_view text);

// Lower-case hex, two digits per byte ("" for no bytes).
std::string to_hex(ByteView bytes);
// The inverse of to_hex(); InvalidArgument for an odd length or a non-hex digit.
Result<Bytes> from_hex(std::string_view hex);

// Parses batch input: one operation per line.
//
//   put KEY VALUE     VALUE is the rest of the line after the whitespace that follows KEY
//   delete KEY
//   # comment, and blank lines, are skipped
//
// KEY is one whitespace-free token; KEY and VALUE take the escapes above. A trailing "\r" is
// dropped from each line. InvalidArgument names the line number and what is wrong.
Result<std::vector<BatchOperation>> parse_batch(std::string_view text);

}  // namespace tessera::cli
