#include "format.h"

#include <cstdint>

namespace tessera::cli {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

// Splits off the first whitespace-delimited token of `line`; `line` keeps what follows it,
// including the separating whitespace.
std::string_view take_token(std::string_view& line) {
  line = trim_left(line);
  size_t end = 0;
  while (end < line.size() && !is_blank(line[end])) ++end;
  std::string_view token = line.substr(0, end);
  line.remove_prefix(end);
  return token;
}

Status line_error(size_t line_number, std::string_view what) {
  return Status::invalid_argument("batch line " + std::to_string(line_number) + ": " +
                                  std::string(what));
}

}  // namespace

std::string escape(ByteView bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    const auto byte = static_cast<uint8_t>(c);
    switch (c) {
      case '\\': out += "\\\\"; continue;
      case '\t': out += "\\t"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      default: break;
    }
    if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0xf];
    }
  }
  return out;
}

Result<Bytes> unescape(std::string_view text) {
  Bytes out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 == text.size()) {
      return Status::invalid_argument("a lone backslash ends \"" + escape(text) + "\"");
    }
    const char kind = text[++i];
    switch (kind) {
      case '\\': out += '\\'; break;
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'x': {
        const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
        const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
          return Status::invalid_argument("\\x needs two hex digits in \"" + escape(text) + "\"");
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
        break;
      }
      default:
        return Status::invalid_argument(std::string("unknown escape \\") + kind + " in \"" +
                                        escape(text) + "\"");
    }
  }
  return out;
}

std::string to_hex(ByteView bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto byte = static_cast<uint8_t>(c);
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0xf];
  }
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return Status::invalid_argument("hex string has an odd length");
  Bytes out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = digit(hex[i]);
    int low = digit(hex[i + 1]);
    if (high < 0 || low < 0) {
      return Status::invalid_argument("not a hex digit at position " + std::to_string(i));
    }
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

Result<std::vector<BatchOperation>> parse_batch(std::string_view text) {
  std::vector<BatchOperation> operations;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const std::string_view verb = take_token(line);
    if (verb.empty() || verb.front() == '#') continue;
    const std::string_view key_text = take_token(line);
    if (key_text.empty()) return line_error(line_number, std::string(verb) + " needs a KEY");
    Result<Bytes> key = unescape(key_text);
    if (!key.is_ok()) return line_error(line_number, key.status().message());

    if (verb == "put") {
      // Exactly one separator goes; the rest, spaces included, is the value.
      if (line.empty()) return line_error(line_number, "put needs KEY VALUE");
      Result<Bytes> value = unescape(line.substr(1));
      if (!value.is_ok()) return line_error(line_number, value.status().message());
      operations.push_back({std::move(key).value(), std::move(value).value()});
    } else if (verb == "delete") {
      if (!trim_left(line).empty()) {
        return line_error(line_number, "delete takes only KEY");
      }
      operations.push_back({std::move(key).value(), std::nullopt});
    } else {
      return line_error(line_number,
                        "unknown operation \"" + escape(verb) + "\" (expected put or delete)");
    }
  }
  return operations;
}

}  // namespace tessera::cli
