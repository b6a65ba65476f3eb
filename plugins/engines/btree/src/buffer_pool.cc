#include "buffer_pool.h"

#include "node.h"

namespace tessera::btree {

BufferPool::PageRef& BufferPool::PageRef::operator=(PageRef&& other) noexcept {
  if (this != &other) {
    reset();
    pool_ = other.pool_;
    frame_ = other.frame_;
    other.pool_ = nullptr;
    other.frame_ = nullptr;
  }
  return *this;
}

void BufferPool::PageRef::reset() {
  if (frame_ != nullptr) pool_->unpin(frame_);
  pool_ = nullptr;
  frame_ = nullptr;
}

PageId BufferPool::PageRef::id() const {
  TESSERA_ASSERT(frame_ != nullptr);
  return frame_->id;
}

const char* BufferPool::PageRef::data() const {
  TESSERA_ASSERT(frame_ != nullptr);
  return frame_->data.get();
}

char* BufferPool::PageRef::mutable_data() {
  TESSERA_ASSERT(frame_ != nullptr);
  return frame_->data.get();
}

BufferPool::BufferPool(PageFile& file, size_t frames_max) : file_(file), frames_max_(frames_max) {
  TESSERA_ASSERT(frames_max >= 8);
}

BufferPool::~BufferPool() {
  for (const auto& [id, frame] : frames_) TESSERA_ASSERT(frame->pins == 0, "page still pinned");
}

BufferPool::Frame* BufferPool::insert_locked(PageId id, std::unique_ptr<char[]> data) {
  auto frame = std::make_unique<Frame>();
  frame->id = id;
  frame->data = std::move(data);
  lru_.push_front(frame.get());
  frame->lru = lru_.begin();
  Frame* raw = frame.get();
  frames_[id] = std::move(frame);
  return raw;
}

Result<PageRef> BufferPool::fetch(PageId id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = frames_.find(id); it != frames_.end()) {
      Frame* frame = it->second.get();
      ++frame->pins;
      lru_.splice(lru_.begin(), lru_, frame->lru);
      ++stats_.hits;
      return PageRef(this, frame);
    }
  }
  size_t page_bytes = file_.page_bytes();
  std::unique_ptr<char[]> data(new char[page_bytes]);
  TESSERA_RETURN_IF_ERROR(file_.read(id, data.get()));
  TESSERA_RETURN_IF_ERROR(validate_node(data.get(), page_bytes, id, file_.name()));
  std::lock_guard lock(mutex_);
  ++stats_.misses;
  Frame* frame;
  if (auto it = frames_.find(id); it != frames_.end()) {
    frame = it->second.get();  // another reader loaded it meanwhile
    lru_.splice(lru_.begin(), lru_, frame->lru);
  } else {
    frame = insert_locked(id, std::move(data));
  }
  ++frame->pins;
  evict_locked();
  return PageRef(this, frame);
}

PageRef BufferPool::create(PageId id) {
  size_t page_bytes = file_.page_bytes();
  std::unique_ptr<char[]> data(new char[page_bytes]());
  std::lock_guard lock(mutex_);
  if (auto it = frames_.find(id); it != frames_.end()) {
    TESSERA_ASSERT(it->second->pins == 0, "a reused page is still pinned");
    lru_.erase(it->second->lru);
    frames_.erase(it);
  }
  Frame* frame = insert_locked(id, std::move(data));
  frame->dirty = true;
  ++frame->pins;
  evict_locked();
  return PageRef(this, frame);
}

void BufferPool::mark_dirty(const PageRef& ref) {
  std::lock_guard lock(mutex_);
  ref.frame_->dirty = true;
  ref.frame_->freed = false;
}

void BufferPool::mark_freed(PageId id) {
  std::lock_guard lock(mutex_);
  if (auto it = frames_.find(id); it != frames_.end()) it->second->freed = true;
}

void BufferPool::forget(PageId id) {
  std::lock_guard lock(mutex_);
  auto it = frames_.find(id);
  if (it == frames_.end()) return;
  TESSERA_ASSERT(it->second->pins == 0, "a reclaimed page is still pinned");
  lru_.erase(it->second->lru);
  frames_.erase(it);
}

void BufferPool::unpin(Frame* frame) {
  std::lock_guard lock(mutex_);
  TESSERA_ASSERT(frame->pins > 0);
  --frame->pins;
  if (frame->pins == 0 && frames_.size() > frames_max_) evict_locked();
}

Status BufferPool::write_locked(Frame* frame) {
  size_t page_bytes = file_.page_bytes();
  std::unique_ptr<char[]> copy(new char[page_bytes]);
  std::memcpy(copy.get(), frame->data.get(), page_bytes);
  seal_page(copy.get(), page_bytes);
  TESSERA_RETURN_IF_ERROR(file_.write(frame->id, copy.get()));
  frame->dirty = false;
  ++stats_.pages_written;
  return Status::ok();
}

void BufferPool::evict_locked() {
  auto it = lru_.end();
  while (frames_.size() > frames_max_ && it != lru_.begin()) {
    --it;
    Frame* frame = *it;
    if (frame->pins > 0) continue;
    // A write error leaves the frame cached and dirty: the next flush reports it.
    if (frame->dirty && !write_locked(frame).is_ok()) continue;
    it = lru_.erase(it);
    frames_.erase(frame->id);
    ++stats_.evictions;
  }
}

Status BufferPool::flush() {
  std::lock_guard lock(mutex_);
  for (auto& [id, frame] : frames_) {
    if (frame->dirty && !frame->freed) TESSERA_RETURN_IF_ERROR(write_locked(frame.get()));
  }
  return Status::ok();
}

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard lock(mutex_);
  Stats s = stats_;
  s.frames = frames_.size();
  s.dirty = 0;
  for (const auto& [id, frame] : frames_) s.dirty += frame->dirty ? 1 : 0;
  return s;
}

}  // namespace tessera::btree
