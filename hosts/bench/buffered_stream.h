// BufferedStream: an AsyncIoStream that reads its inner stream in large chunks and writes what
// one turn of the event loop produced in one syscall.
//
// Why: Cap'n Proto 0.9's two-party transport reads each message in two exact reads (its first
// word, then the rest), then asks for the next first word, which fails with EAGAIN until the
// next answer arrives: three read syscalls per answer. It writes every message on its own,
// after the previous write completed: a call and, once its answer is read, a Finish message, so
// two writev per request. Behind this stream one read() takes whatever the socket holds
// (several answers when requests are pipelined) and the transport's small reads are served
// from memory; writes are copied into an output buffer that is flushed once the event loop has
// nothing else to run (kj::evalLast), so the Finish of one answer and the call sent from its
// continuation, and everything else written in that turn, leave in one write. No write waits
// for a timer: the flush happens before the loop sleeps.
//
// Bounds: the read buffer is `read_buffer_bytes` (a read at least that large bypasses it). The
// output buffer holds what the transport wrote since the last flush began, which the load
// bounds: at most --pipeline requests per connection are in flight.
//
// Errors: a failed flush fails every later write with the same exception (the transport then
// sees the connection as broken, as it would without this stream).
//
// Thread-safety: none; like the stream it wraps, it belongs to one event loop.
#pragma once

#include <kj/async-io.h>
#include <kj/async.h>

#include <cstddef>
#include <vector>

namespace tessera::bench {

class BufferedStream final : public kj::AsyncIoStream {
 public:
  // REQUIRES: read_buffer_bytes > 0.
  BufferedStream(kj::Own<kj::AsyncIoStream> inner, size_t read_buffer_bytes);

  // Serves [minBytes, maxBytes] from the read buffer, refilling it from the inner stream as
  // needed; fewer than minBytes only at the end of the stream.
  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;

  // Copies the bytes into the output buffer and resolves at once; the flush follows.
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;

  kj::Promise<void> whenWriteDisconnected() override;
  // Shuts the inner stream's write side once the output buffer is flushed.
  void shutdownWrite() override;
  void abortRead() override;
  void getsockopt(int level, int option, void* value, kj::uint* length) override;
  void setsockopt(int level, int option, const void* value, kj::uint length) override;
  void getsockname(struct sockaddr* addr, kj::uint* length) override;
  void getpeername(struct sockaddr* addr, kj::uint* length) override;

 private:
  // Copies what the read buffer holds into [out, out + max); returns the bytes copied.
  size_t take(kj::byte* out, size_t max);
  kj::Promise<size_t> fill_then_read(kj::byte* out, size_t min, size_t max, size_t done);
  void append(const kj::byte* data, size_t size);
  kj::Promise<void> flush();

  kj::Own<kj::AsyncIoStream> inner_;
  std::vector<kj::byte> read_buffer_;
  size_t read_begin_ = 0;  // [read_begin_, read_end_) is read but not yet handed out
  size_t read_end_ = 0;
  std::vector<kj::byte> pending_;  // written, not yet handed to the inner stream
  std::vector<kj::byte> sending_;  // being written by the inner stream
  bool flushing_ = false;          // a flush is scheduled or running
  bool shutdown_requested_ = false;
  kj::Maybe<kj::Exception> write_error_;
  kj::Promise<void> flush_task_ = nullptr;  // last member: destroyed first, it refers to this
};

}  // namespace tessera::bench
