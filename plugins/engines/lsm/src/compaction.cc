#include "compaction.h"

#include <algorithm>
#include <cmath>

#include "table_builder.h"

namespace tessera::lsm {
namespace {

double level_target_bytes(const CompactionOptions& options, int level) {
  return static_cast<double>(options.level_base_bytes) *
         std::pow(static_cast<double>(options.level_size_multiplier), level - 1);
}

double level_score(const Version& version, const CompactionOptions& options, int level) {
  if (level == 0) {
    return static_cast<double>(version.levels[0].size()) / options.l0_compaction_trigger;
  }
  return static_cast<double>(version.level_bytes(level)) / level_target_bytes(options, level);
}

// Writes output tables one at a time, cutting between user keys.
class OutputWriter {
 public:
  OutputWriter(const TableEnv& env, uint64_t target_file_bytes)
      : env_(env), target_file_bytes_(target_file_bytes) {}

  ~OutputWriter() {
    // Outputs of a failed run were never installed.
    if (!committed_) {
      for (const auto& file : outputs_) file->obsolete.store(true);
      if (file_ != nullptr) {
        std::error_code ec;
        fs::remove(file_->path(), ec);
      }
    }
  }

  Status add(ByteView key, ByteView value) {
    if (builder_ != nullptr && builder_->size_estimate() >= target_file_bytes_ &&
        user_key_of(key) != user_key_of(largest_)) {
      TESSERA_RETURN_IF_ERROR(finish_file());
    }
    if (builder_ == nullptr) {
      number_ = env_.new_file_number();
      TESSERA_ASSIGN_OR_RETURN(file_, WritableFile::create(table_file_path(env_.dir, number_), 0, env_.grow));
      builder_ = std::make_unique<TableBuilder>(env_.table, file_.get());
      smallest_.assign(key);
    }
    builder_->add(key, value);
    largest_.assign(key);
    return Status::ok();
  }

  Status finish_file() {
    if (builder_ == nullptr) return Status::ok();
    TESSERA_RETURN_IF_ERROR(builder_->finish());
    TESSERA_RETURN_IF_ERROR(file_->sync());
    TESSERA_RETURN_IF_ERROR(file_->close());
    auto meta = std::make_shared<FileMeta>();
    meta->number = number_;
    meta->file_bytes = builder_->file_size();
    meta->smallest = smallest_;
    meta->largest = largest_;
    meta->path = file_->path();
    bytes_written_ += meta->file_bytes;
    builder_.reset();
    file_.reset();
    TESSERA_ASSIGN_OR_RETURN(meta->table, TableReader::open(meta->path, meta->number, env_.cache));
    outputs_.push_back(std::move(meta));
    return Status::ok();
  }

  const FileList& outputs() const { return outputs_; }
  uint64_t bytes_written() const { return bytes_written_; }
  void commit() { committed_ = true; }

 private:
  const TableEnv& env_;
  const uint64_t target_file_bytes_;
  std::unique_ptr<WritableFile> file_;
  std::unique_ptr<TableBuilder> builder_;
  uint64_t number_ = 0;
  Bytes smallest_;
  Bytes largest_;
  FileList outputs_;
  uint64_t bytes_written_ = 0;
  bool committed_ = false;
};

// True when no level deeper than `output_level` may hold `user_key`.
bool is_base_level_for_key(const Version& version, int output_level, ByteView user_key) {
  for (int level = output_level + 1; level < kNumLevels; ++level) {
    if (!version.overlapping(level, user_key, user_key).empty()) return false;
  }
  return true;
}

}  // namespace

double compaction_score(const Version& version, const CompactionOptions& options) {
  double best = 0;
  for (int level = 0; level < kNumLevels - 1; ++level) {
    best = std::max(best, level_score(version, options, level));
  }
  return best;
}

std::optional<Compaction> pick_compaction(std::shared_ptr<const Version> version,
                                          const CompactionOptions& options,
                                          std::array<Bytes, kNumLevels>* compact_pointers) {
  int best_level = -1;
  double best_score = 1.0;
  for (int level = 0; level < kNumLevels - 1; ++level) {
    double score = level_score(*version, options, level);
    if (score >= best_score) {
      best_score = score;
      best_level = level;
    }
  }
  if (best_level < 0) return std::nullopt;
  Compaction c;
  c.level = best_level;
  if (best_level == 0) {
    c.inputs[0] = version->levels[0];
  } else {
    const FileList& files = version->levels[best_level];
    const Bytes& pointer = (*compact_pointers)[best_level];
    auto it = std::find_if(files.begin(), files.end(), [&](const auto& f) {
      return pointer.empty() || user_key_of(f->smallest) > ByteView(pointer);
    });
    if (it == files.end()) it = files.begin();
    c.inputs[0].push_back(*it);
  }
  ByteView smallest = user_key_of(c.inputs[0].front()->smallest);
  ByteView largest = user_key_of(c.inputs[0].front()->largest);
  for (const auto& f : c.inputs[0]) {
    smallest = std::min(smallest, user_key_of(f->smallest));
    largest = std::max(largest, user_key_of(f->largest));
  }
  c.inputs[1] = version->overlapping(best_level + 1, smallest, largest);
  (*compact_pointers)[best_level].assign(largest);
  c.version = std::move(version);
  return c;
}

Result<std::shared_ptr<FileMeta>> build_table(InternalIterator* iter, const TableEnv& env,
                                              uint64_t* bytes_written) {
  OutputWriter writer(env, UINT64_MAX);
  for (iter->seek_to_first(); iter->valid(); iter->next()) {
    TESSERA_RETURN_IF_ERROR(writer.add(iter->key(), iter->value()));
  }
  TESSERA_RETURN_IF_ERROR(iter->status());
  TESSERA_RETURN_IF_ERROR(writer.finish_file());
  writer.commit();
  *bytes_written = writer.bytes_written();
  if (writer.outputs().empty()) return std::shared_ptr<FileMeta>();
  return writer.outputs().front();
}

Status run_compaction(const Compaction& c, SequenceNumber smallest_snapshot, const TableEnv& env,
                      VersionEdit* edit, CompactionStats* stats) {
  const int output_level = c.level + 1;
  std::vector<std::unique_ptr<InternalIterator>> children;
  for (int which = 0; which < 2; ++which) {
    int level = c.level + which;
    if (level == 0) {
      for (const auto& f : c.inputs[0]) {
        children.push_back(TableReader::new_iterator(f->table, false));
      }
    } else if (!c.inputs[which].empty()) {
      children.push_back(new_level_iterator(c.inputs[which], false));
    }
    for (const auto& f : c.inputs[which]) stats->bytes_read += f->file_bytes;
  }
  auto iter = new_merging_iterator(std::move(children));
  OutputWriter writer(env, env.target_file_bytes);
  Bytes current_user_key;
  bool have_current = false;
  SequenceNumber last_sequence_for_key = kSequenceMax;
  uint64_t steps = 0;
  for (iter->seek_to_first(); iter->valid(); iter->next()) {
    if ((++steps & 1023) == 0) {
      if (env.shutting_down && env.shutting_down()) {
        return Status::unavailable("compaction stopped: the engine is closing");
      }
      if (env.between_keys) TESSERA_RETURN_IF_ERROR(env.between_keys());
    }
    ParsedInternalKey key;
    if (!parse_internal_key(iter->key(), &key)) {
      return Status::corruption("compaction input holds a malformed internal key");
    }
    if (!have_current || key.user_key != ByteView(current_user_key)) {
      current_user_key.assign(key.user_key);
      have_current = true;
      last_sequence_for_key = kSequenceMax;
    }
    bool drop = false;
    if (last_sequence_for_key <= smallest_snapshot) {
      drop = true;  // shadowed by a newer version every snapshot sees
    } else if (key.type == ValueType::kDeletion && key.sequence <= smallest_snapshot &&
               is_base_level_for_key(*c.version, output_level, key.user_key)) {
      drop = true;  // nothing older left to hide
    }
    last_sequence_for_key = key.sequence;
    if (drop) {
      ++stats->entries_dropped;
      continue;
    }
    TESSERA_RETURN_IF_ERROR(writer.add(iter->key(), iter->value()));
  }
  TESSERA_RETURN_IF_ERROR(iter->status());
  TESSERA_RETURN_IF_ERROR(writer.finish_file());
  for (int which = 0; which < 2; ++which) {
    for (const auto& f : c.inputs[which])
      edit->deleted_files.emplace_back(c.level + which, f->number);
  }
  for (const auto& f : writer.outputs()) edit->added_files.emplace_back(output_level, f);
  stats->bytes_written += writer.bytes_written();
  writer.commit();
  return Status::ok();
}

}  // namespace tessera::lsm
