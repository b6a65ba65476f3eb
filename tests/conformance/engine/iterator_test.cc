// Ordered range iteration: seek, upper bound, the caller's limit, and the fixed view of an
// iterator.
#include <string>

#include "engine_fixture.h"

namespace tessera::conformance {
namespace {

class Iteration : public EngineTest {
 protected:
  // Keys k010, k020, ..., k990 with value "v<n>".
  void fill() {
    for (int n = 10; n < 1000; n += 10) {
      put(key(n), "v" + std::to_string(n));
      model_[key(n)] = "v" + std::to_string(n);
    }
  }
  static Bytes key(int n) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "k%03d", n);
    return buffer;
  }
  void expect_scan(const ScanSpec& spec) {
    KeyValues expected = expected_scan(model_, spec);
    KeyValues actual = scan(spec);
    EXPECT_TRUE(actual == expected)
        << "start " << printable(spec.start.value_or("<first>")) << " upper_bound "
        << printable(spec.upper_bound.value_or("<none>")) << " limit " << spec.limit
        << "\n  got      " << printable(actual) << "\n  expected " << printable(expected);
  }

  Model model_;
};

TEST_F(Iteration, EmptyEngineHasNothing) {
  std::unique_ptr<Iterator> it = engine().new_iterator({});
  it->seek_to_first();
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_ok());
  it->seek("anything");
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_ok());
}

TEST_F(Iteration, FullScanIsOrdered) {
  fill();
  expect_scan({});
  EXPECT_EQ(scan({}).size(), 99u);
}

TEST_F(Iteration, SeekLandsOnFirstKeyAtOrAfterTarget) {
  fill();
  expect_scan({.start = key(500), .limit = 1});     // exact
  expect_scan({.start = Bytes("k5"), .limit = 1});  // between: lands on k500
  expect_scan({.start = Bytes("k505"), .limit = 3});
  expect_scan({.start = Bytes(""), .limit = 2});
  expect_scan({.start = Bytes("a")});
  expect_scan({.start = Bytes("k991")});  // past the last key
  expect_scan({.start = Bytes("z")});
  EXPECT_EQ(scan({.start = Bytes("k5"), .limit = 1}).at(0).first, "k500");
}

TEST_F(Iteration, UpperBoundIsExclusive) {
  fill();
  expect_scan({.start = key(100), .upper_bound = key(200)});
  EXPECT_EQ(scan({.start = key(100), .upper_bound = key(200)}).back().first, "k190");
  expect_scan({.start = key(100), .upper_bound = Bytes("k2")});
  expect_scan({.upper_bound = key(10)});                        // nothing below the first key
  expect_scan({.upper_bound = Bytes("k0105")});                 // a bound between keys
  expect_scan({.start = key(300), .upper_bound = key(300)});    // empty range
  expect_scan({.start = key(400), .upper_bound = key(300)});    // inverted range: empty
  expect_scan({.start = key(900), .upper_bound = Bytes("z")});  // bound past the end
}

TEST_F(Iteration, CallerLimitStopsEarly) {
  fill();
  expect_scan({.limit = 0});
  expect_scan({.limit = 5});
  expect_scan({.start = key(950), .limit = 100});  // fewer than the limit are left
  expect_scan({.start = key(100), .upper_bound = key(150), .limit = 3});
  expect_scan({.start = key(100), .upper_bound = key(150), .limit = 30});
}

// A page-by-page scan, the way a server serves one with page tokens: resume after the last key.
TEST_F(Iteration, PagesResumeAfterTheLastKey) {
  fill();
  KeyValues all;
  Bytes start = key(200);
  for (int page = 0; page < 100; ++page) {
    KeyValues entries = scan({.start = start, .upper_bound = key(700), .limit = 7});
    if (entries.empty()) break;
    all.insert(all.end(), entries.begin(), entries.end());
    start = entries.back().first + '\0';  // the smallest key after the last one
  }
  EXPECT_EQ(all, expected_scan(model_, {.start = key(200), .upper_bound = key(700)}));
}

TEST_F(Iteration, ReseekOnOneIterator) {
  fill();
  std::unique_ptr<Iterator> it = engine().new_iterator({.upper_bound = key(600)});
  it->seek(key(550));
  EXPECT_EQ(drain(*it), expected_scan(model_, {.start = key(550), .upper_bound = key(600)}));
  it->seek(key(100));  // backwards, after reaching the end
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "k100");
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "k010");
  EXPECT_EQ(it->value(), "v10");
}

TEST_F(Iteration, IteratorViewIsFixedAtCreation) {
  fill();
  std::unique_ptr<Iterator> it = engine().new_iterator({});
  put(key(15), "new");      // a new key
  del(key(20));             // a deleted key
  put(key(30), "changed");  // an overwritten key
  for (int n = 1000; n < 1100; ++n) put("k" + std::to_string(n), "later");
  it->seek_to_first();
  EXPECT_EQ(drain(*it), expected_scan(model_, {})) << "the iterator saw writes after it was made";
  it->seek(key(10));
  EXPECT_EQ(drain(*it, 3), expected_scan(model_, {.limit = 3})) << "after a re-seek";
  it.reset();
  EXPECT_EQ(scan({.limit = 3}), (KeyValues{{"k010", "v10"}, {"k015", "new"}, {"k030", "changed"}}));
}

TEST_F(Iteration, ViewsStayValidUntilTheIteratorMoves) {
  put("a", "value-a");
  put("b", "value-b");
  std::unique_ptr<Iterator> it = engine().new_iterator({});
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  ByteView key = it->key();
  ByteView value = it->value();
  put("a", "overwritten while the iterator sits on it");
  del("b");
  EXPECT_EQ(key, "a");
  EXPECT_EQ(value, "value-a");
}

}  // namespace
}  // namespace tessera::conformance
