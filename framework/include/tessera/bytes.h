// Bytes and ByteView: how keys and values travel.
//
// Keys and values are arbitrary bytes. `Bytes` owns them (a std::string used as a byte buffer);
// `ByteView` borrows them for the duration of a call, exactly like LevelDB's Slice: whoever
// hands out a ByteView keeps the bytes alive while it is used. Byte-wise comparison of
// ByteViews (std::string_view's operator<, which compares as unsigned char) is the order of
// every engine and every scan.
#pragma once

#include <string>
#include <string_view>

namespace tessera {

using Bytes = std::string;
using ByteView = std::string_view;

}  // namespace tessera
