#include "etcd_target.h"

#include <kj/debug.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

namespace tessera::bench {
namespace {

// An answer larger than this (headers and body) is malformed for the requests sent here.
constexpr size_t kAnswerBytesMax = 1 << 20;
constexpr size_t kReadChunkBytes = 16 * 1024;

// The status code of an HTTP answer as the driver's error code.
StatusCode code_of_http(int status) {
  if (status == 200) return StatusCode::kOk;
  if (status == 408 || status == 504) return StatusCode::kTimeout;
  if (status == 429 || status == 503) return StatusCode::kBusy;
  if (status == 413) return StatusCode::kTooLarge;
  if (status >= 400 && status < 500) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

struct ParsedAnswer {
  int status = 0;
  size_t consumed = 0;  // bytes of the buffer the answer took
  std::string_view body;
};

// Parses one complete HTTP/1.1 answer at the start of `data`; nullopt while it is incomplete.
// Throws (kj) when it is malformed.
std::optional<ParsedAnswer> parse_answer(std::string_view data, std::string& body_scratch) {
  const size_t header_end = data.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return std::nullopt;
  const std::string_view head = data.substr(0, header_end);
  KJ_REQUIRE(head.size() > 12 && head.substr(0, 5) == "HTTP/", "not an HTTP answer");
  ParsedAnswer answer;
  answer.status = std::atoi(std::string(head.substr(9, 3)).c_str());
  std::optional<size_t> length;
  bool chunked = false;
  size_t line_start = head.find("\r\n");
  while (line_start != std::string_view::npos && line_start < head.size()) {
    line_start += 2;
    size_t line_end = head.find("\r\n", line_start);
    if (line_end == std::string_view::npos) line_end = head.size();
    const std::string_view line = head.substr(line_start, line_end - line_start);
    if (iequals_prefix(line, "content-length:")) {
      length = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
    } else if (iequals_prefix(line, "transfer-encoding:") &&
               line.find("chunked") != std::string_view::npos) {
      chunked = true;
    }
    line_start = line_end;
  }
  const size_t body_start = header_end + 4;
  if (!chunked) {
    const size_t bytes = length.value_or(0);
    if (data.size() < body_start + bytes) return std::nullopt;
    answer.body = data.substr(body_start, bytes);
    answer.consumed = body_start + bytes;
    return answer;
  }
  body_scratch.clear();
  size_t at = body_start;
  while (true) {
    const size_t size_end = data.find("\r\n", at);
    if (size_end == std::string_view::npos) return std::nullopt;
    const size_t chunk =
        std::strtoull(std::string(data.substr(at, size_end - at)).c_str(), nullptr, 16);
    at = size_end + 2;
    if (chunk == 0) {
      // No trailers are sent by etcd: the last chunk is followed by an empty line.
      if (data.size() < at + 2) return std::nullopt;
      answer.body = body_scratch;
      answer.consumed = at + 2;
      return answer;
    }
    if (data.size() < at + chunk + 2) return std::nullopt;
    body_scratch.append(data.substr(at, chunk));
    at += chunk + 2;
  }
}

class EtcdTarget final : public LoadTarget {
 public:
  EtcdTarget(kj::AsyncIoContext& io, const std::string& address, Workload& workload)
      : io_(io), address_(address), workload_(workload) {
    buffer_.resize(kReadChunkBytes);
    key_.resize(workload.key_bytes_max());
  }

  kj::Promise<Status> connect() override {
    return io_.provider->getNetwork()
        .parseAddress(address_, 2379)
        .then([](kj::Own<kj::NetworkAddress> address) { return address->connect(); })
        .then([this](kj::Own<kj::AsyncIoStream> stream) {
          stream_ = kj::mv(stream);
          request_ = "GET /version HTTP/1.1\r\nHost: " + address_ + "\r\n\r\n";
          return round_trip();
        })
        .then(
            [this](ParsedAnswer answer) {
              if (answer.status != 200 || answer.body.find("etcdserver") == std::string::npos) {
                return Status::not_supported("the server at " + address_ +
                                             " does not answer like etcd (GET /version gave " +
                                             std::to_string(answer.status) + ")");
              }
              return Status::ok();
            },
            [this](kj::Exception&& e) {
              return Status::unavailable("cannot reach etcd at " + address_ + ": " +
                                         std::string(e.getDescription().cStr()));
            });
  }

  kj::Promise<LoadAnswer> send(const LoadRequest& r) override {
    KJ_REQUIRE(!busy_, "etcd target: one request at a time per connection (--pipeline 1)");
    const uint32_t key_bytes = workload_.key_bytes(r.key);
    workload_.fill_key(r.key, key_.data());
    body_ = "{\"key\":\"";
    append_base64(ByteView(key_.data(), key_bytes), body_);
    if (!r.read) {
      body_ += "\",\"value\":\"";
      append_base64(r.value, body_);
    }
    body_ += "\"}";
    request_ =
        r.read ? "POST /v3/kv/range HTTP/1.1\r\nHost: " : "POST /v3/kv/put HTTP/1.1\r\nHost: ";
    request_ += address_;
    request_ += "\r\nContent-Type: application/json\r\nContent-Length: ";
    request_ += std::to_string(body_.size());
    request_ += "\r\n\r\n";
    request_ += body_;
    return round_trip().then([read = r.read](ParsedAnswer answer) {
      LoadAnswer result{code_of_http(answer.status), true, {}};
      // A range answer lists "kvs" only when the key has a value.
      if (read && result.code == StatusCode::kOk) {
        result.found = answer.body.find("\"kvs\"") != std::string_view::npos;
      }
      return result;
    });
  }

  kj::Promise<LoadAnswer> preload(uint64_t first, uint64_t count, std::mt19937_64& rng) override {
    LoadRequest request;
    request.key = first;
    request.value = workload_.value(rng);
    return send(request);
  }

  uint64_t preload_batch_max() const override { return 1; }

 private:
  // Writes request_ and reads one answer. The answer's body stays valid until the next call.
  kj::Promise<ParsedAnswer> round_trip() {
    busy_ = true;
    return stream_->write(request_.data(), request_.size()).then([this]() {
      return read_answer();
    });
  }

  kj::Promise<ParsedAnswer> read_answer() {
    if (std::optional<ParsedAnswer> answer =
            parse_answer(std::string_view(buffer_.data(), filled_), chunked_body_)) {
      // The body is copied out first, since the next read overwrites the buffer. Only one
      // request is ever outstanding, so normally nothing follows the answer.
      if (answer->body.data() != chunked_body_.data()) {
        chunked_body_.assign(answer->body);
        answer->body = chunked_body_;
      }
      filled_ -= answer->consumed;
      std::memmove(buffer_.data(), buffer_.data() + answer->consumed, filled_);
      busy_ = false;
      return *answer;
    }
    if (filled_ == buffer_.size()) {
      KJ_REQUIRE(buffer_.size() < kAnswerBytesMax, "etcd answer too large");
      buffer_.resize(buffer_.size() * 2);
    }
    return stream_->tryRead(buffer_.data() + filled_, 1, buffer_.size() - filled_)
        .then([this](size_t n) {
          KJ_REQUIRE(n > 0, "etcd closed the connection");
          filled_ += n;
          return read_answer();
        });
  }

  kj::AsyncIoContext& io_;
  const std::string address_;
  Workload& workload_;
  kj::Own<kj::AsyncIoStream> stream_;
  std::string key_;
  std::string body_;
  std::string request_;
  std::vector<char> buffer_;
  size_t filled_ = 0;
  std::string chunked_body_;
  bool busy_ = false;
};

}  // namespace

void append_base64(ByteView bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) |
                       (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
}

kj::Own<LoadTarget> make_etcd_target(kj::AsyncIoContext& io, const std::string& address,
                                     Workload& workload) {
  return kj::heap<EtcdTarget>(io, address, workload);
}

}  // namespace tessera::bench
