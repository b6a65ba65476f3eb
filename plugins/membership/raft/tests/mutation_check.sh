#!/usr/bin/env bash
# Mutation check of the Raft test suite: each mutation puts back one known Raft bug, rebuilds,
# and records which tests catch it. Not part of ctest (each mutation is a rebuild).
#   usage: plugins/membership/raft/tests/mutation_check.sh [build-dir]   (default: build-raft)
# Sources are restored from a backup after each mutation, and on exit, whatever happens.
set -uo pipefail
cd "$(dirname "$0")/../../../.."
BUILD=${1:-build-raft}
SRC=plugins/membership/raft/src/raft
WORK=$BUILD/raft-mutations
mkdir -p "$WORK"
RESULTS=$WORK/results.txt
: > "$RESULTS"
current=""
restore() { if [[ -n "$current" ]]; then cp "$WORK/$current.orig" "$SRC/$current"; current=""; fi; }
trap restore EXIT INT TERM

# A test binary that aborts (an assertion) prints no failure line: report its first assertion.
aborted() { grep -m1 -E 'TESSERA_(ASSERT|REQUIRE) failed' | sed 's/ at .*//'; }

mutate() {
  local name=$1 file=$2 old=$3 new=$4
  # ONLY=<glob> runs the mutations whose name matches.
  if [[ -n "${ONLY:-}" && "$name" != $ONLY ]]; then return; fi
  cp "$SRC/$file" "$WORK/$file.orig"
  current=$file
  python3 - "$SRC/$file" "$old" "$new" <<'PY' || { echo "$name | pattern not found" >> "$RESULTS"; restore; return; }
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if old not in text:
    sys.exit(1)
open(path, "w").write(text.replace(old, new, 1))
PY
  if ninja -C "$BUILD" -j2 tessera_raft_sweep_test tessera_raft_scenario_test tessera_raft_unit_test \
      > "$WORK/$name.build" 2>&1; then
    local sweep scen unit out
    out=$(TESSERA_SEEDS=500 TESSERA_STEPS=100000 "$BUILD/bin/tessera_raft_sweep_test" \
              --gtest_filter='*Every*' 2>&1)
    sweep=$(grep -m1 'TESSERA_SEED' <<< "$out")
    [[ -z "$sweep" ]] && sweep=$(aborted <<< "$out")
    out=$("$BUILD/bin/tessera_raft_scenario_test" 2>&1)
    scen=$(grep -oE '^\[  FAILED  \] RaftScenario\.[A-Za-z0-9]+' <<< "$out" | sort -u | sed 's/.*\.//' | tr '\n' ' ')
    [[ -z "$scen" ]] && scen=$(aborted <<< "$out")
    out=$("$BUILD/bin/tessera_raft_unit_test" 2>&1)
    unit=$(grep -oE '^\[  FAILED  \] [A-Za-z]+\.[A-Za-z0-9]+' <<< "$out" | sort -u | sed 's/.*\] //' | tr '\n' ' ')
    [[ -z "$unit" ]] && unit=$(aborted <<< "$out")
    echo "$name | sweep: ${sweep:-not caught} | scenarios: ${scen:-none} | unit: ${unit:-none}" >> "$RESULTS"
  else
    echo "$name | build failed (see $WORK/$name.build)" >> "$RESULTS"
  fi
  restore
}

mutate follower_commit_past_last_new replication.cc \
  "log_.commit_to(std::min(m.commit, *last_new));" \
  "log_.commit_to(std::min(m.commit, log_.last_index()));"
mutate vote_not_recorded step.cc "      vote_ = m.from;" "      (void)vote_;"
mutate no_up_to_date_check step.cc \
  "if (can_vote && log_.is_up_to_date(m.log_index, m.log_term)) {" "if (can_vote) {"
mutate figure8_no_current_term_rule replication.cc \
  "if (index <= log_.committed() || log_.term(index) != term_) return false;" \
  "if (index <= log_.committed()) return false;"
mutate read_without_quorum read_index.cc \
  "  if (conf_.voters.size() == 1 && conf_.is_voter(options_.id)) {" "  if (true) {"
mutate conflicts_not_truncated log.cc \
  "    if (!match_term(e.index, e.term)) break;" "    if (e.index > last_index()) break;"
mutate overlapping_conf_changes raft.cc \
  "  if (pending_conf_index_ > log_.committed() || log_.committed() < term_start_index_) {" \
  "  if (false) {"
mutate heartbeat_commit_unbounded replication.cc \
  "    m.commit = std::min(pr.match(), log_.committed());" "    m.commit = log_.committed();"
mutate every_message_early raft.cc \
  "    (early && early_kind(m.type) ? rd.early_messages : rd.messages).push_back(std::move(m));" \
  "    (early || early_kind(m.type) || true ? rd.early_messages : rd.messages).push_back(std::move(m));"
mutate early_before_term_durable raft.cc \
  "  const bool early = role_ == Role::kLeader && persisted_hard_state_.term == term_;" \
  "  const bool early = role_ == Role::kLeader;"
mutate restart_applies_from_snapshot log.cc \
  "  applied_ = durable.applied;" "  applied_ = snapshot_index_;"
mutate restart_skips_replay log.cc \
  "  applied_ = durable.applied;" \
  "  applied_ = std::clamp(durable.hard_state.commit, snapshot_index_, last_index_);"
mutate read_joins_earlier_round read_index.cc \
  "  reads_.push_back(PendingRead{request_id, log_.committed(), read_round_ + 1});" \
  "  reads_.push_back(PendingRead{request_id, log_.committed(), read_round_});"
mutate cache_evicts_unpersisted log.cc \
  "         entries_.front().index <= persisted_) {" "         true) {"
ninja -C "$BUILD" -j2 tessera_raft_sweep_test tessera_raft_scenario_test tessera_raft_unit_test \
  > "$WORK/final.build" 2>&1
cat "$RESULTS"
