#include "workload.h"

#include <algorithm>
#include <stdexcept>

namespace tessera::bench {
namespace {

// splitmix64's finalizer: a fixed, well-mixed function of `x`.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Result<std::vector<SizeWeight>> parse_size_mix(const std::string& text, const std::string& option) {
  std::vector<SizeWeight> mix;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    const size_t colon = item.find(':');
    SizeWeight entry;
    try {
      size_t used = 0;
      const std::string size_text = item.substr(0, colon);
      const unsigned long bytes = std::stoul(size_text, &used);
      if (used != size_text.size() || bytes > (1ul << 30)) throw std::invalid_argument("size");
      entry.bytes = static_cast<uint32_t>(bytes);
      if (colon != std::string::npos) {
        const std::string weight_text = item.substr(colon + 1);
        entry.weight = std::stod(weight_text, &used);
        if (used != weight_text.size() || !(entry.weight > 0)) throw std::invalid_argument("w");
      }
    } catch (const std::exception&) {
      return Status::invalid_argument(option + ": \"" + item +
                                      "\" is not SIZE or SIZE:WEIGHT (bytes up to 1 GiB, "
                                      "weight > 0)");
    }
    mix.push_back(entry);
  }
  return mix;
}

Result<Workload> Workload::make(const LoadOptions& o) {
  std::vector<SizeWeight> key_mix{{o.key_bytes, 1}};
  if (!o.key_sizes.empty()) {
    TESSERA_ASSIGN_OR_RETURN(key_mix, parse_size_mix(o.key_sizes, "--key-sizes"));
  }
  const size_t needed = 1 + std::to_string(o.keys - 1).size();
  for (const SizeWeight& entry : key_mix) {
    if (entry.bytes >= needed) continue;
    return Status::invalid_argument((o.key_sizes.empty() ? "--key-bytes " : "--key-sizes: ") +
                                    std::to_string(entry.bytes) +
                                    (o.key_sizes.empty() ? "" : " B") + " cannot hold " +
                                    std::to_string(o.keys) + " distinct keys");
  }
  std::vector<SizeWeight> value_mix;
  TESSERA_ASSIGN_OR_RETURN(value_mix, parse_size_mix(o.value_sizes, "--value-sizes"));
  Workload workload(o.seed, std::move(key_mix), std::move(value_mix));
  workload.key_sizes_text_ = o.key_sizes.empty() ? std::to_string(o.key_bytes) : o.key_sizes;
  return workload;
}

Workload::Workload(uint64_t seed, std::vector<SizeWeight> key_mix,
                   std::vector<SizeWeight> value_mix)
    : seed_(seed), key_mix_(std::move(key_mix)), value_mix_(std::move(value_mix)) {
  double total = 0;
  for (const SizeWeight& entry : key_mix_) {
    key_weight_ends_.push_back(total += entry.weight);
    key_bytes_max_ = std::max(key_bytes_max_, entry.bytes);
  }
  std::vector<double> weights;
  for (const SizeWeight& entry : value_mix_) {
    weights.push_back(entry.weight);
    value_bytes_max_ = std::max(value_bytes_max_, entry.bytes);
  }
  value_sizes_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
  std::mt19937_64 rng(seed);
  auto bytes = std::make_shared<std::string>(size_t{value_bytes_max_} + 4096, '\0');
  for (char& c : *bytes) c = static_cast<char>(rng());
  random_bytes_ = std::move(bytes);
}

uint32_t Workload::key_bytes(uint64_t index) const {
  if (key_mix_.size() == 1) return key_mix_.front().bytes;
  const double unit = static_cast<double>(mix64(index ^ mix64(seed_)) >> 11) * 0x1p-53;
  const auto end = std::upper_bound(key_weight_ends_.begin(), key_weight_ends_.end(),
                                    unit * key_weight_ends_.back());
  return key_mix_[std::min<size_t>(end - key_weight_ends_.begin(), key_mix_.size() - 1)].bytes;
}

void Workload::fill_key(uint64_t index, char* out) const {
  const uint32_t bytes = key_bytes(index);
  std::fill(out, out + bytes, '0');
  out[0] = 'k';
  for (size_t pos = bytes - 1; index > 0 && pos > 0; --pos, index /= 10) {
    out[pos] = static_cast<char>('0' + index % 10);
  }
}

std::string Workload::key(uint64_t index) const {
  std::string key(key_bytes(index), '\0');
  fill_key(index, key.data());
  return key;
}

ByteView Workload::value(std::mt19937_64& rng) {
  const uint32_t bytes = value_mix_[value_sizes_(rng)].bytes;
  const size_t offset = rng() % (random_bytes_->size() - bytes + 1);
  return ByteView(*random_bytes_).substr(offset, bytes);
}

}  // namespace tessera::bench
