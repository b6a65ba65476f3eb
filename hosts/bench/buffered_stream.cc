#include "buffered_stream.h"

#include <algorithm>
#include <cstring>

namespace tessera::bench {

BufferedStream::BufferedStream(kj::Own<kj::AsyncIoStream> inner, size_t read_buffer_bytes)
    : inner_(kj::mv(inner)), read_buffer_(std::max<size_t>(read_buffer_bytes, 1)) {}

size_t BufferedStream::take(kj::byte* out, size_t max) {
  const size_t n = std::min(max, read_end_ - read_begin_);
  std::memcpy(out, read_buffer_.data() + read_begin_, n);
  read_begin_ += n;
  if (read_begin_ == read_end_) read_begin_ = read_end_ = 0;
  return n;
}

kj::Promise<size_t> BufferedStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  auto* out = static_cast<kj::byte*>(buffer);
  const size_t done = take(out, maxBytes);
  if (done >= minBytes) return done;
  return fill_then_read(out, minBytes, maxBytes, done);
}

kj::Promise<size_t> BufferedStream::fill_then_read(kj::byte* out, size_t min, size_t max,
                                                   size_t done) {
  // REQUIRES: the read buffer is empty (take() drained it) and done < min.
  if (max - done >= read_buffer_.size()) {
    return inner_->tryRead(out + done, min - done, max - done).then([done](size_t n) {
      return done + n;
    });
  }
  return inner_->tryRead(read_buffer_.data(), 1, read_buffer_.size())
      .then([this, out, min, max, done](size_t n) -> kj::Promise<size_t> {
        if (n == 0) return done;  // end of stream
        read_end_ = n;
        const size_t now = done + take(out + done, max - done);
        if (now >= min) return now;
        return fill_then_read(out, min, max, now);
      });
}

void BufferedStream::append(const kj::byte* data, size_t size) {
  KJ_IF_MAYBE (error, write_error_) {
    kj::throwFatalException(kj::cp(*error));
  }
  pending_.insert(pending_.end(), data, data + size);
  if (flushing_) return;
  flushing_ = true;
  flush_task_ =
      kj::evalLast([this]() { return flush(); }).eagerlyEvaluate([this](kj::Exception&& e) {
        write_error_ = kj::mv(e);
        flushing_ = false;
      });
}

kj::Promise<void> BufferedStream::flush() {
  if (pending_.empty()) {
    flushing_ = false;
    if (shutdown_requested_) inner_->shutdownWrite();
    return kj::READY_NOW;
  }
  sending_.swap(pending_);
  pending_.clear();
  return inner_->write(sending_.data(), sending_.size()).then([this]() {
    sending_.clear();
    return flush();
  });
}

kj::Promise<void> BufferedStream::write(const void* buffer, size_t size) {
  append(static_cast<const kj::byte*>(buffer), size);
  return kj::READY_NOW;
}

kj::Promise<void> BufferedStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  for (const auto& piece : pieces) append(piece.begin(), piece.size());
  return kj::READY_NOW;
}

kj::Promise<void> BufferedStream::whenWriteDisconnected() {
  return inner_->whenWriteDisconnected();
}

void BufferedStream::shutdownWrite() {
  if (flushing_) {
    shutdown_requested_ = true;
  } else {
    inner_->shutdownWrite();
  }
}

void BufferedStream::abortRead() { inner_->abortRead(); }

void BufferedStream::getsockopt(int level, int option, void* value, kj::uint* length) {
  inner_->getsockopt(level, option, value, length);
}

void BufferedStream::setsockopt(int level, int option, const void* value, kj::uint length) {
  inner_->setsockopt(level, option, value, length);
}

void BufferedStream::getsockname(struct sockaddr* addr, kj::uint* length) {
  inner_->getsockname(addr, length);
}

void BufferedStream::getpeername(struct sockaddr* addr, kj::uint* length) {
  inner_->getpeername(addr, length);
}

}  // namespace tessera::bench
