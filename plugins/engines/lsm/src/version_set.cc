#include "version_set.h"

#include <algorithm>

#include "wal_reader.h"

namespace tessera::lsm {

// ---- Version ----------------------------------------------------------------------------

Result<std::optional<TableReader::Lookup>> Version::get(ByteView user_key,
                                                        SequenceNumber snapshot,
                                                        bool memory_only) const {
  auto contains = [&](const FileMeta& f) {
    return user_key_of(f.smallest) <= user_key && user_key <= user_key_of(f.largest);
  };
  for (const auto& file : levels[0]) {  // newest first
    if (!contains(*file)) continue;
    TESSERA_ASSIGN_OR_RETURN(auto found, file->table->get(user_key, snapshot, memory_only));
    if (found) return found;
  }
  for (int level = 1; level < kNumLevels; ++level) {
    const FileList& files = levels[level];
    auto it = std::lower_bound(files.begin(), files.end(), user_key,
                               [](const std::shared_ptr<FileMeta>& f, ByteView key) {
                                 return user_key_of(f->largest) < key;
                               });
    if (it == files.end() || !contains(**it)) continue;
    TESSERA_ASSIGN_OR_RETURN(auto found, (*it)->table->get(user_key, snapshot, memory_only));
    if (found) return found;
  }
  return std::optional<TableReader::Lookup>();
}

void Version::add_iterators(std::vector<std::unique_ptr<InternalIterator>>* out,
                            bool fill_cache) const {
  for (const auto& file : levels[0]) {
    out->push_back(TableReader::new_iterator(file->table, fill_cache));
  }
  for (int level = 1; level < kNumLevels; ++level) {
    if (!levels[level].empty()) out->push_back(new_level_iterator(levels[level], fill_cache));
  }
}

FileList Version::overlapping(int level, ByteView smallest, ByteView largest) const {
  FileList result;
  for (const auto& file : levels[level]) {
    if (user_key_of(file->largest) < smallest || largest < user_key_of(file->smallest)) continue;
    result.push_back(file);
  }
  return result;
}

uint64_t Version::level_bytes(int level) const {
  uint64_t total = 0;
  for (const auto& file : levels[level]) total += file->file_bytes;
  return total;
}

uint64_t Version::total_bytes() const {
  uint64_t total = 0;
  for (int level = 0; level < kNumLevels; ++level) total += level_bytes(level);
  return total;
}

uint64_t Version::largest_run_bytes() const {
  uint64_t best = 0;
  for (int level = 1; level < kNumLevels; ++level) best = std::max(best, level_bytes(level));
  // Level 0: the heaviest set of files with pairwise disjoint user-key ranges (weighted interval
  // scheduling over the files ordered by largest key).
  FileList files = levels[0];
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return user_key_of(a->largest) < user_key_of(b->largest);
  });
  auto ends_below = [](const std::shared_ptr<FileMeta>& f, ByteView key) {
    return user_key_of(f->largest) < key;
  };
  std::vector<uint64_t> heaviest(files.size() + 1, 0);  // [i]: over the first i files
  for (size_t i = 0; i < files.size(); ++i) {
    // The first `compatible` files end below this file's smallest key.
    auto first_i = files.begin() + static_cast<ptrdiff_t>(i);
    size_t compatible = static_cast<size_t>(
        std::lower_bound(files.begin(), first_i, user_key_of(files[i]->smallest), ends_below) -
        files.begin());
    heaviest[i + 1] = std::max(heaviest[i], files[i]->file_bytes + heaviest[compatible]);
  }
  return std::max(best, heaviest.back());
}

namespace {

class LevelIterator final : public InternalIterator {
 public:
  LevelIterator(FileList files, bool fill_cache)
      : files_(std::move(files)), fill_cache_(fill_cache) {}

  bool valid() const override { return table_ != nullptr && table_->valid(); }
  void seek_to_first() override {
    open(0);
    if (table_ != nullptr) table_->seek_to_first();
    skip_exhausted_files();
  }
  void seek(ByteView target) override {
    auto it = std::lower_bound(files_.begin(), files_.end(), target,
                               [](const std::shared_ptr<FileMeta>& f, ByteView key) {
                                 return compare_internal_keys(f->largest, key) < 0;
                               });
    open(static_cast<size_t>(it - files_.begin()));
    if (table_ != nullptr) table_->seek(target);
    skip_exhausted_files();
  }
  void next() override {
    TESSERA_REQUIRE(valid());
    table_->next();
    skip_exhausted_files();
  }
  ByteView key() const override { return table_->key(); }
  ByteView value() const override { return table_->value(); }
  Status status() const override { return table_ != nullptr ? table_->status() : Status::ok(); }

 private:
  void open(size_t index) {
    index_ = index;
    table_ = index < files_.size() ? TableReader::new_iterator(files_[index]->table, fill_cache_)
                                   : nullptr;
  }
  void skip_exhausted_files() {
    while (table_ != nullptr && !table_->valid() && table_->status().is_ok()) {
      open(index_ + 1);
      if (table_ != nullptr) table_->seek_to_first();
    }
  }

  FileList files_;
  bool fill_cache_;
  size_t index_ = 0;
  std::unique_ptr<InternalIterator> table_;
};

}  // namespace

std::unique_ptr<InternalIterator> new_level_iterator(FileList files, bool fill_cache) {
  return std::make_unique<LevelIterator>(std::move(files), fill_cache);
}

Result<std::shared_ptr<Version>> apply_edit(const Version& base, const VersionEdit& edit) {
  auto version = std::make_shared<Version>(base);
  for (const auto& [level, number] : edit.deleted_files) {
    FileList& files = version->levels[level];
    auto it = std::find_if(files.begin(), files.end(),
                           [&](const auto& f) { return f->number == number; });
    if (it == files.end()) {
      return Status::corruption("manifest: deletes file " + std::to_string(number) +
                                " that is not in level " + std::to_string(level));
    }
    files.erase(it);
  }
  for (const auto& [level, file] : edit.added_files) version->levels[level].push_back(file);
  std::sort(version->levels[0].begin(), version->levels[0].end(),
            [](const auto& a, const auto& b) { return a->number > b->number; });
  for (int level = 1; level < kNumLevels; ++level) {
    std::sort(version->levels[level].begin(), version->levels[level].end(),
              [](const auto& a, const auto& b) {
                return compare_internal_keys(a->smallest, b->smallest) < 0;
              });
  }
  return version;
}

// ---- VersionSet -------------------------------------------------------------------------

VersionSet::VersionSet(fs::path dir, BlockCache* cache, const TestHooks* hooks)
    : dir_(std::move(dir)), cache_(cache), hooks_(hooks), current_(std::make_shared<Version>()) {}

void VersionSet::install(std::shared_ptr<const Version> version) {
  std::lock_guard lock(current_mutex_);
  current_ = std::move(version);
}

Status VersionSet::recover() {
  fs::path current_path = dir_ / "CURRENT";
  std::error_code ec;
  if (!fs::exists(current_path, ec)) {
    // No CURRENT: a new engine, or a first open that a crash interrupted before it wrote
    // CURRENT. Such an open leaves at most a manifest and an empty WAL (no write can have been
    // accepted yet); the next open removes them. Tables or WAL data mean CURRENT was lost.
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      uint64_t number;
      FileKind kind = parse_file_name(entry.path().filename().string(), &number);
      std::error_code size_ec;
      if (kind == FileKind::kTable ||
          (kind == FileKind::kLog && fs::file_size(entry.path(), size_ec) > 0)) {
        return Status::corruption(current_path.string() + ": missing, but " +
                                  entry.path().filename().string() + " holds data");
      }
      next_file_number_ = std::max(next_file_number_, number + 1);
    }
    return Status::ok();
  }
  TESSERA_ASSIGN_OR_RETURN(Bytes current, read_whole_file(current_path));
  uint64_t number = 0;
  if (current.empty() || current.back() != '\n' ||
      parse_file_name(current.substr(0, current.size() - 1), &number) != FileKind::kManifest) {
    return Status::corruption(current_path.string() + ": does not name a manifest");
  }
  fs::path manifest_path = manifest_file_path(dir_, number);
  std::shared_ptr<Version> version = std::make_shared<Version>();
  bool have_next_file = false;
  auto read = read_log_file(manifest_path, TailPolicy::kStrict, [&](ByteView payload) -> Status {
    TESSERA_ASSIGN_OR_RETURN(VersionEdit edit, VersionEdit::decode(payload));
    TESSERA_ASSIGN_OR_RETURN(version, apply_edit(*version, edit));
    if (edit.log_number) log_number_ = *edit.log_number;
    if (edit.next_file_number) {
      next_file_number_ = *edit.next_file_number;
      have_next_file = true;
    }
    if (edit.last_sequence) last_sequence_.store(*edit.last_sequence);
    return Status::ok();
  });
  if (!read.is_ok()) return read.status();
  if (!have_next_file) {
    return Status::corruption(manifest_path.string() + ": no next file number recorded");
  }
  manifest_number_ = number;
  for (auto& files : version->levels) {
    for (auto& file : files) {
      file->path = table_file_path(dir_, file->number);
      TESSERA_ASSIGN_OR_RETURN(file->table, TableReader::open(file->path, file->number, cache_));
      next_file_number_ = std::max(next_file_number_, file->number + 1);
    }
  }
  next_file_number_ = std::max(next_file_number_, number + 1);
  install(std::move(version));
  return Status::ok();
}

Status VersionSet::write_snapshot(WalWriter* writer) const {
  VersionEdit snapshot;
  snapshot.log_number = log_number_;
  snapshot.next_file_number = next_file_number_;
  snapshot.last_sequence = last_sequence();
  for (int level = 0; level < kNumLevels; ++level) {
    for (const auto& file : current_->levels[level]) snapshot.added_files.emplace_back(level, file);
  }
  Bytes record;
  snapshot.encode(&record);
  return writer->add_record(record);
}

Status VersionSet::log_and_apply(VersionEdit* edit, bool* may_be_recorded) {
  if (may_be_recorded != nullptr) *may_be_recorded = false;
  for (const auto& [level, file] : edit->added_files) {
    TESSERA_REQUIRE(file->table != nullptr, "added files must be open");
  }
  if (edit->log_number) TESSERA_ASSERT(*edit->log_number >= log_number_);
  if (!edit->last_sequence) edit->last_sequence = last_sequence();
  TESSERA_ASSIGN_OR_RETURN(std::shared_ptr<Version> version, apply_edit(*current_, *edit));
  // Until the record is durable, nothing below touches this VersionSet's state (but for the
  // file-number allocator): a failure must leave it as the manifest on disk has it.
  std::unique_ptr<WalWriter> fresh;  // a new manifest, holding the whole current state first
  uint64_t fresh_number = 0;
  constexpr uint64_t kManifestBytesMax = 64ull << 20;
  if (manifest_ == nullptr || manifest_->size() > kManifestBytesMax) {
    fresh_number = new_file_number();
    fs::path fresh_path = manifest_file_path(dir_, fresh_number);
    TESSERA_ASSIGN_OR_RETURN(fresh, WalWriter::create(fresh_path));
    Status status = write_snapshot(fresh.get());
    if (!status.is_ok()) {
      manifest_.reset();
      std::error_code ec;
      fs::remove(fresh_path, ec);  // CURRENT never named it; a leftover goes at the next open
      return status;
    }
  }
  WalWriter* manifest = fresh != nullptr ? fresh.get() : manifest_.get();
  edit->next_file_number = next_file_number_;
  Bytes record;
  edit->encode(&record);
  Status status = Status::ok();
  if (hooks_ != nullptr && hooks_->before_manifest_write) {
    status = hooks_->before_manifest_write(*edit);
  }
  if (status.is_ok()) status = manifest->add_record(record);
  const bool written = status.is_ok();
  if (status.is_ok()) status = manifest->sync();
  if (status.is_ok() && fresh != nullptr) {
    char name[64];
    std::snprintf(name, sizeof(name), "MANIFEST-%06llu\n",
                  static_cast<unsigned long long>(fresh_number));
    status = write_file_atomically(dir_ / "CURRENT", name);
  }
  if (!status.is_ok()) {
    if (may_be_recorded != nullptr) *may_be_recorded = written;
    manifest_.reset();  // it may now hold a partial record: never append to it again
    if (fresh != nullptr && !written) {
      std::error_code ec;
      fs::remove(manifest_file_path(dir_, fresh_number), ec);  // CURRENT never named it
    }
    return status;
  }
  // Durable: apply the edit.
  if (fresh != nullptr) {
    uint64_t old_manifest_number = manifest_number_;
    manifest_ = std::move(fresh);
    manifest_number_ = fresh_number;
    if (old_manifest_number != 0) {
      std::error_code ec;
      fs::remove(manifest_file_path(dir_, old_manifest_number), ec);  // an orphan is harmless
    }
  }
  if (edit->log_number) log_number_ = *edit->log_number;
  if (*edit->last_sequence > last_sequence()) set_last_sequence(*edit->last_sequence);
  for (const auto& [level, number] : edit->deleted_files) {
    // A file moved to another level appears in both lists and stays live.
    bool moved = std::any_of(edit->added_files.begin(), edit->added_files.end(),
                             [&](const auto& added) { return added.second->number == number; });
    if (moved) continue;
    for (const auto& file : current_->levels[level]) {
      if (file->number == number) file->obsolete.store(true);
    }
  }
  install(std::move(version));
  return Status::ok();
}

}  // namespace tessera::lsm
