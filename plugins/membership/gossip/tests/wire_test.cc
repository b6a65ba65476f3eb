// The wire encoding of gossip messages: round trips, the size bound, and datagrams that must
// not decode (garbage, truncation, flipped bits, broken rules), none of which may crash.
#include "wire.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "host_port.h"
#include "tessera/coding.h"
#include "tessera/crc32c.h"

namespace tessera::gossip::wire {
namespace {

Member member(std::string id, uint64_t incarnation, MemberStatus status, std::string zone = "") {
  return Member{id, "10.0.0." + std::to_string(id.size()) + ":7000", std::move(zone),
                incarnation, status};
}

Message ping_req() {
  Message m;
  m.type = MessageType::kPingReq;
  m.from = "n1";
  m.from_address = "10.0.0.2:7000";
  m.to = "n2";
  m.seq = 1234567;
  m.target = "n3";
  m.target_address = "[2001:db8::3]:7000";
  m.entries.push_back(Member{"n1", "10.0.0.2:7000", "z1", 1'700'000'000'123, MemberStatus::kAlive});
  m.entries.push_back(member("n3", 7, MemberStatus::kSuspect, "z3"));
  m.entries.push_back(member("node-four", 0, MemberStatus::kLeft));
  return m;
}

// The largest message the limits allow: every string at its bound, every integer at 2^64 - 1.
Message largest() {
  Message m;
  m.type = MessageType::kPushPullReply;
  const std::string id(kIdBytesMax, 'i');
  const std::string address(kAddressBytesMax, 'a');
  m.from = id;
  m.from_address = address;
  m.to = id;
  m.seq = UINT64_MAX;
  m.target = id;
  m.target_address = address;
  for (size_t i = 0; i < kWireEntriesMax; ++i) {
    std::string unique = id;
    unique[0] = static_cast<char>('A' + i);
    m.entries.push_back(Member{i == 0 ? id : unique, address, std::string(kZoneBytesMax, 'z'),
                               UINT64_MAX, MemberStatus::kDead});
  }
  return m;
}

void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.from_address, b.from_address);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.target, b.target);
  EXPECT_EQ(a.target_address, b.target_address);
  EXPECT_EQ(a.entries, b.entries);
}

// A datagram with `body` under a correct header and checksum, to test the body rules alone.
Bytes framed(const Bytes& body) {
  Bytes out = "TG";
  out.push_back(static_cast<char>(kVersion));
  put_fixed32_be(&out, crc32c::value(body.data(), body.size()));
  return out + body;
}

TEST(GossipWire, EveryTypeRoundTrips) {
  for (MessageType type : {MessageType::kPing, MessageType::kAck, MessageType::kPingReq,
                           MessageType::kPushPull, MessageType::kPushPullReply}) {
    Message m = ping_req();
    m.type = type;
    ASSERT_TRUE(encodable(m));
    const std::optional<Message> back = decode(encode(m));
    ASSERT_TRUE(back.has_value()) << to_string(type);
    expect_same(*back, m);
  }
}

TEST(GossipWire, ASeedMessageWithoutReceiverRoundTrips) {
  Message m;
  m.type = MessageType::kPushPull;
  m.from = "n9";
  m.from_address = "127.0.0.1:1";
  m.entries.push_back(Member{"n9", "127.0.0.1:1", "", 0, MemberStatus::kAlive});
  const std::optional<Message> back = decode(encode(m));
  ASSERT_TRUE(back.has_value());
  expect_same(*back, m);
}

TEST(GossipWire, TheLargestMessageFitsOneDatagram) {
  const Message m = largest();
  ASSERT_TRUE(encodable(m));
  const Bytes datagram = encode(m);
  EXPECT_LE(datagram.size(), kEncodedBytesMax);
  EXPECT_LE(datagram.size(), kDatagramBytesMax);
  // The bound is tight: the largest message reaches it exactly.
  EXPECT_EQ(datagram.size(), kEncodedBytesMax);
  const std::optional<Message> back = decode(datagram);
  ASSERT_TRUE(back.has_value());
  expect_same(*back, m);
}

TEST(GossipWire, MessagesBeyondTheLimitsAreNotEncodable) {
  Message m = ping_req();
  m.entries[1].id = std::string(kIdBytesMax + 1, 'x');
  EXPECT_FALSE(encodable(m));
  m = ping_req();
  m.entries[2].zone = std::string(kZoneBytesMax + 1, 'z');
  EXPECT_FALSE(encodable(m));
  m = ping_req();
  m.target_address = std::string(kAddressBytesMax + 1, 'a');
  EXPECT_FALSE(encodable(m));
  m = ping_req();
  m.entries.clear();
  EXPECT_FALSE(encodable(m));
  m = largest();
  m.entries.push_back(m.entries.back());
  EXPECT_FALSE(encodable(m));
  m = ping_req();
  m.from = "someone-else";  // the sender's entry must come first
  EXPECT_FALSE(encodable(m));
}

TEST(GossipWire, EveryTruncationIsDropped) {
  const Bytes datagram = encode(ping_req());
  for (size_t n = 0; n < datagram.size(); ++n) {
    EXPECT_FALSE(decode(ByteView(datagram).substr(0, n)).has_value()) << n;
  }
}

TEST(GossipWire, EveryFlippedBitIsDropped) {
  const Bytes datagram = encode(ping_req());
  for (size_t i = 0; i < datagram.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = datagram;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_FALSE(decode(bad).has_value()) << i << ":" << bit;
    }
  }
}

TEST(GossipWire, RandomGarbageIsDropped) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20000; ++round) {
    Bytes junk(rng() % (kDatagramBytesMax + 64), '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (round % 2 == 0 && junk.size() >= 3) junk.replace(0, 3, "TG\x01");  // past the magic
    EXPECT_FALSE(decode(junk).has_value());
  }
  // Garbage with a valid header and checksum exercises the body rules.
  size_t decoded = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes body(rng() % 64, '\0');
    for (char& c : body) c = static_cast<char>(rng() % 4);  // small bytes: plausible lengths
    decoded += decode(framed(body)).has_value() ? 1 : 0;     // must not crash either way
  }
  SUCCEED() << decoded << " random bodies happened to decode";
}

TEST(GossipWire, BodiesBreakingARuleAreDropped) {
  const Bytes good = encode(ping_req());
  const Bytes body = good.substr(kHeaderBytes);
  ASSERT_TRUE(decode(framed(body)).has_value());
  EXPECT_FALSE(decode(framed(body + "x")).has_value());  // trailing byte
  Bytes bad = body;
  bad[0] = 5;  // no such type
  EXPECT_FALSE(decode(framed(bad)).has_value());
  Bytes other_version = good;
  other_version[2] = static_cast<char>(kVersion + 1);
  EXPECT_FALSE(decode(other_version).has_value());
  // No entries at all.
  Bytes empty;
  empty.push_back(0);                 // ping
  put_length_prefixed(&empty, "");    // to
  put_varint64(&empty, 1);            // seq
  put_length_prefixed(&empty, "");    // target
  put_length_prefixed(&empty, "");    // target_address
  empty.push_back(0);                 // count
  EXPECT_FALSE(decode(framed(empty)).has_value());
  // Too many entries, an empty id, an unknown status, an overlong string.
  auto one_entry = [](ByteView id, uint8_t status, size_t count, ByteView address,
                      uint8_t flags = 0) {
    Bytes b;
    b.push_back(0);
    put_length_prefixed(&b, "");
    put_varint64(&b, 1);
    put_length_prefixed(&b, "");
    put_length_prefixed(&b, "");
    b.push_back(static_cast<char>(count));
    for (size_t i = 0; i < count; ++i) {
      put_length_prefixed(&b, id);
      put_length_prefixed(&b, address);
      put_length_prefixed(&b, "");
      put_varint64(&b, 0);
      b.push_back(static_cast<char>(status));
      b.push_back(static_cast<char>(flags));
    }
    return b;
  };
  EXPECT_TRUE(decode(framed(one_entry("n1", 0, 1, "h:1"))).has_value());
  std::optional<Message> joining = decode(framed(one_entry("n1", 0, 1, "h:1", 1)));
  ASSERT_TRUE(joining.has_value());
  EXPECT_TRUE(joining->entries[0].joining);
  EXPECT_FALSE(decode(framed(one_entry("n1", 0, 1, "h:1", 2))).has_value());  // unknown flag
  EXPECT_FALSE(decode(framed(one_entry("n1", 0, kWireEntriesMax + 1, "h:1"))).has_value());
  EXPECT_FALSE(decode(framed(one_entry("", 0, 1, "h:1"))).has_value());
  EXPECT_FALSE(decode(framed(one_entry("n1", 4, 1, "h:1"))).has_value());
  EXPECT_FALSE(decode(framed(one_entry("n1", 0, 1, ""))).has_value());
  EXPECT_FALSE(
      decode(framed(one_entry(std::string(kIdBytesMax + 1, 'i'), 0, 1, "h:1"))).has_value());
  // Larger than a datagram may be, even if well formed otherwise.
  EXPECT_FALSE(decode(Bytes(kDatagramBytesMax + 1, 'T')).has_value());
}

TEST(GossipWire, ApplyLimitsSetsTheCoresBounds) {
  Options options;
  apply_limits(options);
  EXPECT_EQ(options.entries_per_message_max, kWireEntriesMax);
  EXPECT_EQ(options.id_bytes_max, kIdBytesMax);
  EXPECT_EQ(options.address_bytes_max, kAddressBytesMax);
  EXPECT_EQ(options.zone_bytes_max, kZoneBytesMax);
}

TEST(GossipHostPort, ParsesHostAndPort) {
  auto v4 = parse_host_port("127.0.0.1:7000");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7000);
  auto v6 = parse_host_port("[::1]:65535");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
  auto name = parse_host_port("node-3.internal:1");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host, "node-3.internal");
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":7000", "h:0", "h:65536", "h:70000x",
                          "h:-1", "::1:7000", "[::1:7000", "a b:1", "h:123456"}) {
    EXPECT_FALSE(parse_host_port(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tessera::gossip::wire
